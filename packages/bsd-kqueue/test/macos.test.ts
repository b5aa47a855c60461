import { describeCrossCompile } from '@async-io/conformance';

// Real headers: src/kqueue.c against Apple's <sys/event.h> (no emulation).
describeCrossCompile({ pkg: 'bsd-kqueue', targets: ['darwin-x64', 'darwin-arm64'], imports: ['kevent', 'kqueue'] });
