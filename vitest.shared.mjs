// Shared vitest settings: every package writes a JSON report per project into
// .test-results/ (scripts/vitest-reports.mjs) so that .ci/run can sum up every
// test it ran in one line.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backends, table } from './scripts/backends.mjs';

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
      reporters: ['default', [join(root, 'scripts', 'vitest-reports.mjs'), { dir: process.env.ASYNC_IO_TEST_RESULTS ?? join(root, '.test-results'), label }]],
      ...extra,
    },
  };
}

/**
 * The backends this host runs a suite against, from the one table
 * (packages/backend-core/lib/table.ts): every backend that serves this
 * platform on its real kernel (the platform's own selected as users get it,
 * the others forced with ASYNC_IO_BACKEND, as polling's
 * `polling_test_poll_backend`), and with `emulated`, on Linux, every other
 * backend whose package has a kernel emulation (test/emulated.cjs, preloaded
 * by packages/reactor/test/emulate.cjs into the workers and their children).
 * An ASYNC_IO_BACKEND set by the caller narrows the matrix to that backend.
 *
 * @example backendMatrix({ emulated: true }).map((m) => m.name) // linux: epoll, poll, kqueue (emulated), event-ports (emulated)
 */
export function backendMatrix({ emulated = false, platform = process.platform } = {}) {
  const rows = backends();
  const t = table();
  const preferred = t.preferredBackend(platform);
  const forced = process.env.ASYNC_IO_BACKEND || undefined;
  const out = [];
  for (const row of rows) {
    if (forced !== undefined && row.name !== forced) continue;
    if (t.servesPlatform(row.name, platform)) {
      out.push({ name: row.name, kind: 'real', env: row.name === preferred ? {} : { ASYNC_IO_BACKEND: row.name } });
    } else if (emulated && platform === 'linux' && existsSync(join(row.dir, 'test', 'emulated.cjs'))) {
      out.push({
        name: `${row.name} (emulated)`,
        kind: 'emulated',
        env: {
          ASYNC_IO_BACKEND: row.name,
          ASYNC_IO_EMULATE: row.name,
          NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${join(root, 'packages', 'reactor', 'test', 'emulate.cjs')}`].filter(Boolean).join(' '),
        },
      });
    }
  }
  return out;
}

/** Vitest `projects`, one per entry of backendMatrix(): same files, that backend's environment. */
export function backendProjects(options = {}) {
  return backendMatrix(options).map((m) => ({
    extends: true,
    test: {
      name: m.name,
      env: m.env,
      // The emulation's addon (the real mechanism file on the kernel shim) is built first.
      ...(m.kind === 'emulated' ? { globalSetup: [join(root, 'scripts', 'vitest-build-shim.mjs')] } : {}),
    },
  }));
}
