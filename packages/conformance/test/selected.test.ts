import { join } from 'node:path';
import { backendRow, preferredBackend } from '@async-io/backend-core';
import { describeConformance } from '../src/index.js';

// polling's `polling_test_poll_backend`: ASYNC_IO_BACKEND picks the backend
// the whole suite runs against (default: this platform's). `pnpm test` here
// runs it once per backend this host serves (vitest.config.mjs: one project
// each, from the backend table): the platform's, then each other forced.
const name = process.env.ASYNC_IO_BACKEND || preferredBackend(process.platform);
const row = name ? backendRow(name) : undefined;
if (!row) throw new Error(`ASYNC_IO_BACKEND=${name}: not a backend`);
const dir = join(__dirname, '..', '..', row.package.split('/')[1]!);
describeConformance({ modulePath: require.resolve(dir), label: `${row.name} (selected by ASYNC_IO_BACKEND=${name})` });
