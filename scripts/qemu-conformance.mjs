#!/usr/bin/env node
// The JS conformance suite (packages/conformance, describeConformance) on a foreign
// architecture's Node under qemu-user, against that architecture's prebuild, on
// epoll and on poll.
//
// Why not vitest itself: vitest and vite load native binaries (rollup, esbuild)
// that are installed for the host only, and an armv7 Node (20.11) cannot strip
// TypeScript. So the host transpiles the suite's TypeScript with `typescript`
// (into packages/conformance/node_modules/.cache/), and the emulated Node runs it on
// node:test with the assertions vitest itself uses (@vitest/expect on chai), with
// `vitest` resolved to that pair. The suite's test code is the same file vitest runs.
// Not run emulated: the C contract suite (it compiles with the host's cc; the
// mechanism C is compiled for arm here only inside the prebuild).
//
//   node scripts/qemu-conformance.mjs --node <arm node> --qemu aarch64|arm --label qemu-arm64
//   node scripts/qemu-conformance.mjs          # the host's Node, no qemu (checks the runner)
//
// Writes a vitest-shaped JSON report per backend into $ASYNC_IO_TEST_RESULTS.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { node: { type: 'string' }, qemu: { type: 'string' }, label: { type: 'string', default: 'host' } } });
const QEMU = { aarch64: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'], arm: ['qemu-arm', '-L', '/usr/arm-linux-gnueabihf'] };
const results = process.env.ASYNC_IO_TEST_RESULTS ?? join(root, '.test-results');
// Inside the conformance package, so that its dependencies resolve from the emitted files.
const out = join(root, 'packages', 'conformance', 'node_modules', '.cache', 'qemu-conformance');

// 1. Transpile the suite (types only; the emit is what tsc would write for CommonJS).
const fromConformance = createRequire(join(root, 'packages', 'conformance', 'package.json'));
const ts = createRequire(join(root, 'package.json'))('typescript');
const src = join(root, 'packages', 'conformance', 'src');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'src'), { recursive: true });
for (const f of readdirSync(src)) {
  if (f.endsWith('.ts')) {
    const { outputText } = ts.transpileModule(readFileSync(join(src, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: f,
    });
    writeFileSync(join(out, 'src', f.replace(/\.ts$/, '.js')), outputText);
  } else copyFileSync(join(src, f), join(out, 'src', f));
}

// 2. `vitest` for the suite: node:test's describe/it/hooks and @vitest/expect's expect.
const expectEntry = createRequire(fromConformance.resolve('vitest/package.json'))
  .resolve('@vitest/expect')
  .replace(/\.c?js$/, '.js');
const chaiEntry = createRequire(expectEntry).resolve('chai');
writeFileSync(
  join(out, 'vitest.cjs'),
  `'use strict';
const t = require('node:test');
const expect = (value, message) => globalThis.__asyncIoChai.expect(value, message);
module.exports = { describe: t.describe, it: t.it, test: t.it, beforeAll: t.before, afterAll: t.after,
  beforeEach: t.beforeEach, afterEach: t.afterEach, expect: new Proxy(expect, { get: (f, k) => k in f ? f[k] : globalThis.__asyncIoChai.expect[k] }) };
`,
);
writeFileSync(
  join(out, 'run.mjs'),
  `import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const chai = await import(pathToFileURL(${JSON.stringify(chaiEntry)}).href);
const { JestChaiExpect, JestAsymmetricMatchers, JestExtend } = await import(pathToFileURL(${JSON.stringify(expectEntry)}).href);
chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);
globalThis.__asyncIoChai = chai;
const require = createRequire(import.meta.url);
const Module = require('node:module');
const resolve = Module._resolveFilename;
const shim = require.resolve('./vitest.cjs');
Module._resolveFilename = function (request, ...rest) {
  return request === 'vitest' ? shim : resolve.call(this, request, ...rest);
};
// The backend under test: its package folder (main: dist/index.js), given as an argument.
const { describeConformance } = require('./src/index.js');
describeConformance({ modulePath: require.resolve(process.argv[2]) });
`,
);

// 3. Run it per backend, emulated, and turn node:test's TAP into a report.
const cmd = [...(values.qemu ? QEMU[values.qemu] : []), values.node ?? process.execPath];
mkdirSync(results, { recursive: true });
let failedTotal = 0;
for (const [backend, pkg] of [
  ['epoll', join(root, 'packages', 'linux-epoll')],
  ['poll', join(root, 'packages', 'poll-fallback')],
]) {
  const r = spawnSync(cmd[0], [...cmd.slice(1), '--test-reporter=tap', join(out, 'run.mjs'), pkg], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, PREBUILDS_ONLY: '1', ASYNC_IO_BACKEND: backend },
    timeout: 900_000,
    maxBuffer: 64 << 20,
  });
  const checks = [];
  const stack = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^( *)(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO).*)?$/.exec(line);
    if (!m) {
      const sub = /^( *)# Subtest: (.*)$/.exec(line);
      if (sub) stack[sub[1].length / 4] = sub[2];
      continue;
    }
    const depth = m[1].length / 4;
    const next = (r.stdout ?? '').split('\n');
    // A suite line (describe) has children; count only leaves: a leaf has no deeper Subtest.
    checks.push({ depth, title: m[3], status: m[4] ? 'pending' : m[2] === 'ok' ? 'passed' : 'failed', ancestors: stack.slice(0, depth) });
    void next;
  }
  // Leaves: entries not followed by deeper entries in TAP order (TAP prints children first).
  const leaves = checks.filter((c, i) => !(i > 0 && checks[i - 1].depth > c.depth));
  const summary = /^# pass (\d+)$/m.exec(r.stdout ?? '');
  const failedTests = leaves.filter((c) => c.status === 'failed');
  const crashed = r.status !== 0 && failedTests.length === 0;
  const assertionResults = leaves.map((c) => ({
    title: c.title,
    fullName: [...c.ancestors, c.title].join(' > '),
    ancestorTitles: c.ancestors,
    status: c.status,
    failureMessages: c.status === 'failed' ? ['see the TAP output in the run log'] : [],
  }));
  if (crashed || leaves.length === 0) {
    assertionResults.push({ title: 'suite ran to the end', fullName: 'suite ran to the end', ancestorTitles: [], status: 'failed', failureMessages: [`exit ${r.status ?? r.signal}\n${(r.stderr ?? '').slice(-2000)}`] });
  }
  const passed = assertionResults.filter((a) => a.status === 'passed').length;
  const failed = assertionResults.filter((a) => a.status === 'failed').length;
  failedTotal += failed;
  const name = `conformance (node:test): ${values.label} ${backend}`;
  writeFileSync(
    join(results, `conformance-${values.label}-${backend}.json`),
    JSON.stringify({ numTotalTests: assertionResults.length, numPassedTests: passed, numFailedTests: failed, numPendingTests: assertionResults.length - passed - failed, success: failed === 0, testResults: [{ name, status: failed ? 'failed' : 'passed', assertionResults }] }, null, 2),
  );
  console.log(`${name}: ${passed} passed, ${failed} failed (node:test says pass ${summary?.[1] ?? '?'})`);
  if (failed) {
    console.log((r.stdout ?? '').split('\n').filter((l) => /not ok|error|expected|Error/.test(l)).slice(0, 40).join('\n'));
    console.log((r.stderr ?? '').slice(-3000));
  }
}
process.exit(failedTotal === 0 ? 0 : 1);
void dirname;
