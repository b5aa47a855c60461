import { describeCrossCompile } from '@async-io/conformance';

// src/poll.c against Apple's headers, and musl/arm64 Linux.
describeCrossCompile({ pkg: 'poll-fallback', targets: ['darwin-x64', 'darwin-arm64', 'linux-x64-musl'], imports: ['poll'] });
