import { join } from 'node:path';
import { describePrebuild } from '@async-io/conformance';

describePrebuild(join(__dirname, '..'));
