// Shared vitest settings: every package writes a JSON report into
// .test-results/ so that .ci/run can sum up every test it ran in one line.
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** @param {string} dir the package directory (import.meta.dirname of its config) */
export function sharedConfig(dir, extra = {}) {
  const label = [basename(dir), process.env.ASYNC_IO_BACKEND].filter(Boolean).join('-');
  return {
    test: {
      // Native addons and blocking waits: one process per test file.
      pool: 'forks',
      testTimeout: 60_000,
      hookTimeout: 60_000,
      reporters: ['default', 'json'],
      // ASYNC_IO_TEST_RESULTS: another folder for another run (e.g. .test-results/node-24).
      outputFile: { json: join(process.env.ASYNC_IO_TEST_RESULTS ?? join(root, '.test-results'), `${label}.json`) },
      ...extra,
    },
  };
}
