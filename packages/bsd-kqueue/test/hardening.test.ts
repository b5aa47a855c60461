import { join } from 'node:path';
import { backendTargets, describeHardening, describeUnserved } from '@async-io/conformance';

// The hardening suite against the real kqueue, or the real kqueue.c on the emulated kernel (Linux).
const targets = backendTargets('kqueue', join(__dirname, '..'));
for (const t of targets) describeHardening({ modulePath: t.modulePath });
describeUnserved('kqueue', targets);
