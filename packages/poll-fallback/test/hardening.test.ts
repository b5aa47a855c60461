import { join } from 'node:path';
import { backendTargets, describeHardening, describeUnserved } from '@async-io/conformance';

const targets = backendTargets('poll', join(__dirname, '..'));
for (const t of targets) describeHardening({ modulePath: t.modulePath });
describeUnserved('poll', targets);
