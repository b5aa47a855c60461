#!/usr/bin/env node
// Data races in the reactor's threads: builds the epoll and poll addons with
// ThreadSanitizer into a private directory, then runs the facade's suites
// that drive the reactor's helper thread, its hand-offs, the busy mode, the
// side path and shared pollers (nested, thread and external drivers; Worker
// teardown) against those builds, in Node with libtsan preloaded. Node
// itself is not instrumented, so only accesses made by our C code are
// checked. Any ThreadSanitizer report, from the test process or any child
// it spawns, fails the run.
//
// Writes .test-results/tsan.json (vitest's JSON report plus one test "no
// ThreadSanitizer report"), counted by scripts/test-summary.mjs.
//
//   node scripts/tsan.mjs                 # epoll and forced poll
//   node scripts/tsan.mjs --backends poll
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { backends } from './backends.mjs';
import { gypTarget } from './cross-prebuild.mjs';

const root = join(import.meta.dirname, '..');
const results = join(root, '.test-results');
// One directory per checkout: two clones' runs at once must not wipe each other's builds.
const out = join(tmpdir(), `async-io-tsan-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
const logs = join(out, 'logs');
const report = join(results, 'tsan.json');
const cc = process.env.CC || 'cc';
const i = process.argv.indexOf('--backends');
const wanted = (i >= 0 ? process.argv[i + 1] : 'epoll,poll').split(',');
// The facade suites that exercise the reactor's threads.
const SUITES = (process.env.ASYNC_IO_TSAN_SUITES ?? 'test/async.test.ts,test/process.test.ts,test/readiness.test.ts,test/watch.test.ts').split(',');

const log = (line) => console.error(`tsan: ${line}`);

const nodeInclude = [join(dirname(dirname(process.execPath)), 'include', 'node'), '/usr/include/node'].find((d) =>
  existsSync(join(d, 'node_api.h')),
);

function build(b) {
  const gyp = gypTarget(b.dir, 'linux');
  const file = join(out, `${gyp.name}.node`);
  const args = [
    ...gyp.cflags, '-shared', '-fPIC', '-g', '-O1', '-fsanitize=thread',
    `-DNODE_GYP_MODULE_NAME=${gyp.name}`, '-DBUILDING_NODE_EXTENSION', '-D_GNU_SOURCE',
    '-I', nodeInclude, ...gyp.includes.flatMap((d) => ['-I', resolve(b.dir, d)]),
    ...gyp.sources.map((f) => resolve(b.dir, f)),
    '-o', file, '-lpthread',
  ];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cc} failed for ${b.name}:\n${r.stderr}`);
  const wrapper = join(out, `${b.name}.cjs`);
  writeFileSync(
    wrapper,
    `'use strict';
const core = require(${JSON.stringify(join(root, 'packages', 'backend-core', 'dist', 'internal.js'))});
const file = ${JSON.stringify(file)};
module.exports = { ...core.fromAddon({ addon: require(file), file, prebuilt: false }), Events: core.Events };
`,
  );
  return { pkg: b.package, wrapper };
}

function main() {
  mkdirSync(results, { recursive: true });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  const libtsan = execFileSync(cc, ['-print-file-name=libtsan.so'], { encoding: 'utf8' }).trim();
  if (!libtsan.startsWith('/')) {
    log(`no libtsan for ${cc}`);
    process.exit(1);
  }
  const built = backends().filter((b) => wanted.includes(b.name)).map(build);
  // Resolves each backend package to its TSan build, in every process of the run.
  const hook = join(out, 'hook.cjs');
  writeFileSync(
    hook,
    `'use strict';
const Module = require('node:module');
const map = ${JSON.stringify(Object.fromEntries(built.flatMap((b) => [[b.pkg, b.wrapper], [`${b.pkg}/internal`, b.wrapper]])))};
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return map[request] ?? resolve.call(this, request, ...rest);
};
`,
  );
  const env = {
    ...process.env,
    LD_PRELOAD: libtsan,
    TSAN_OPTIONS: `log_path=${join(logs, 'tsan')}:halt_on_error=0:report_signal_unsafe=0:exitcode=0`,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${hook}`.trim(),
    ASYNC_IO_HARDENING_LIGHT: '1',
    // The per-project reports of this run are not the suites' own.
    ASYNC_IO_TEST_RESULTS: join(out, 'reports'),
  };
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const json = { numPassedTests: 0, numFailedTests: 0, numTotalTests: 0, testResults: [] };
  let status = 0;
  for (const name of wanted) {
    const part = join(out, `${name}.json`);
    log(`facade suites on ${name} with LD_PRELOAD=${libtsan}`);
    const r = spawnSync(
      process.execPath,
      [vitest, 'run', ...SUITES, '--reporter=default', '--reporter=json', `--outputFile.json=${part}`],
      { cwd: join(root, 'packages', 'reactor'), stdio: 'inherit', env: { ...env, ASYNC_IO_BACKEND: name }, timeout: 30 * 60_000 },
    );
    if (r.status !== 0) status = 1;
    try {
      const got = JSON.parse(readFileSync(part, 'utf8'));
      json.numPassedTests += got.numPassedTests;
      json.numFailedTests += got.numFailedTests;
      json.numTotalTests += got.numTotalTests;
      for (const t of got.testResults) json.testResults.push({ ...t, name: `tsan ${name}: ${t.name}` });
    } catch {
      log(`no report from the ${name} run`);
      json.numFailedTests++;
      status = 1;
    }
  }
  // Node is not instrumented: TSan also reports races between V8's own
  // threads that it sees half of (through its interceptors). A report is
  // ours when one of its frames is in our code.
  // A report is ours when either racing access was made by our code: the
  // first frame of its stack that is not a sanitizer or libc interceptor.
  const ours = (report) =>
    report
      .split(/\n\s*\n/)
      .filter((block) => / of size \d+ at /.test(block.split('\n')[0] ?? '') || /^\s*(Previous )?(atomic )?(read|write)/i.test(block))
      .some((block) => {
        const frame = block.split('\n').find((l) => /^\s*#\d+ /.test(l) && !/\((libtsan|libc)\.so/.test(l));
        return frame !== undefined && /packages\/[\w-]+\/src\//.test(frame);
      });
  const all = readdirSync(logs).flatMap((f) =>
    readFileSync(join(logs, f), 'utf8')
      .split(/^==================$/m)
      .filter((r) => r.includes('WARNING: ThreadSanitizer'))
      .map((text) => ({ file: join(logs, f), text })),
  );
  const found = all.filter((r) => ours(r.text));
  log(`${all.length} report(s) in all, ${found.length} with a frame in our code`);
  for (const f of found) {
    log(`report in ${f.file}:`);
    console.error(f.text);
  }
  const clean = found.length === 0;
  json.testResults.push({
    name: 'tsan logs',
    status: clean ? 'passed' : 'failed',
    assertionResults: [
      { title: 'no ThreadSanitizer report with a frame in our code, from any process', status: clean ? 'passed' : 'failed', failureMessages: found.map((f) => f.text) },
    ],
  });
  if (clean) json.numPassedTests++;
  else json.numFailedTests++;
  json.numTotalTests++;
  writeFileSync(report, JSON.stringify(json));
  log(`${json.numPassedTests} passed, ${json.numFailedTests} failed; ${found.length} ThreadSanitizer report(s)`);
  process.exit(status !== 0 || !clean ? 1 : 0);
}

main();
