#!/usr/bin/env node
// `pnpm test:runtimes`: the demo and suite.mjs under Node, Bun and Deno (and
// Node with ASYNC_IO_NO_LIBUV=1: the Bun/Deno drivers where the Node suites
// and sanitizers can reach them), on the platform's backend and on poll. Each run becomes a vitest-shaped JSON
// report in .test-results/ (runtimes-<runtime>-<backend>.json), which
// scripts/test-summary.mjs counts; exits 1 when any check failed.
//
// Bun and Deno come from the root devDependencies `bun` and `deno`, whose
// binaries are in their platform packages (@oven/bun-*, @deno/*): called
// there directly, so neither package's install script has to run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const here = import.meta.dirname;
const root = join(here, '..');
const results = process.env.ASYNC_IO_TEST_RESULTS ?? join(root, '.test-results');
// Another Node (a line from scripts/node-dist.mjs), optionally under qemu-user:
//   --node <binary>  --qemu aarch64|arm  --runtimes node,node-no-libuv  --label node-24  --no-demo
const { values: opts } = parseArgs({
  options: { node: { type: 'string' }, qemu: { type: 'string' }, runtimes: { type: 'string' }, label: { type: 'string' }, 'no-demo': { type: 'boolean', default: false } },
});
/** qemu-user and the Debian cross sysroot (libc6-<arch>-cross) for a foreign Node. */
const QEMU = { aarch64: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'], arm: ['qemu-arm', '-L', '/usr/arm-linux-gnueabihf'] };
if (opts.qemu && !QEMU[opts.qemu]) throw new Error(`--qemu: one of ${Object.keys(QEMU).join(', ')}`);
const nodeCmd = [...(opts.qemu ? QEMU[opts.qemu] : []), opts.node ?? process.execPath];
const require = createRequire(import.meta.url);
// A run still going after this is reported as hung (ASYNC_IO_RUN_LIMIT_MS: longer under qemu).
const RUN_LIMIT = Number(process.env.ASYNC_IO_RUN_LIMIT_MS ?? 240_000);

/** The binary inside the first installed platform package of `wrapper`. */
function platformBinary(wrapper, candidates, file) {
  let from;
  try {
    from = createRequire(require.resolve(`${wrapper}/package.json`));
  } catch {
    return null;
  }
  for (const name of candidates) {
    try {
      const bin = join(dirname(from.resolve(`${name}/package.json`)), ...file);
      if (existsSync(bin)) return bin;
    } catch {}
  }
  return null;
}

const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
const bun = platformBinary(
  'bun',
  [`@oven/bun-${process.platform}-${arch}`, `@oven/bun-${process.platform}-${arch}-musl`],
  ['bin', 'bun'],
);
const deno = platformBinary(
  'deno',
  [process.platform === 'linux' ? `@deno/linux-${process.arch}-glibc` : `@deno/${process.platform}-${process.arch}`],
  ['deno'],
);

// The command that starts a script, per runtime. Deno: every permission,
// node_modules as installed (no npm or remote fetches, no lockfile written).
const runtimes = [
  { name: 'node', cmd: nodeCmd },
  { name: 'node-no-libuv', cmd: nodeCmd, env: { ASYNC_IO_NO_LIBUV: '1' } },
  { name: 'bun', cmd: bun && [bun], missing: `no Bun binary for ${process.platform}-${arch} (devDependency bun)` },
  {
    name: 'deno',
    cmd: deno && [deno, 'run', '-A', '--no-remote', '--no-lock', '--node-modules-dir=manual'],
    missing: `no Deno binary for ${process.platform}-${process.arch} (devDependency deno)`,
  },
];
const wanted = opts.runtimes?.split(',');
const selected = wanted ? runtimes.filter((r) => wanted.includes(r.name)) : runtimes;
const backends = [process.platform === 'linux' ? 'epoll' : null, 'poll'].filter(Boolean);

const env = {
  ...process.env,
  NO_COLOR: '1',
  DO_NOT_TRACK: '1',
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
};

function run(cmd, args, extraEnv) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], { cwd: root, env: { ...env, ...extraEnv } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, out, err: `${err}${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

const tail = (text) => text.trim().split('\n').slice(-6).join('\n');

async function runOne(runtime, backend) {
  const checks = [];
  const add = (title, status, message) => checks.push({ title, status, failureMessages: message ? [message] : [] });
  if (!runtime.cmd) {
    add('runtime binary', 'failed', runtime.missing);
    return checks;
  }
  const backendEnv = { ...runtime.env, ...(backend === 'poll' ? { ASYNC_IO_BACKEND: 'poll' } : {}) };

  if (!opts['no-demo']) {
    const demo = await run(runtime.cmd, ['examples/demo.mjs'], backendEnv);
    const demoOk = demo.code === 0 && /sha256 of every stream matches: yes/.test(demo.out);
    add('demo (examples/demo.mjs)', demoOk ? 'passed' : 'failed', demoOk ? '' : `exit ${demo.code ?? demo.signal}\n${tail(demo.out + demo.err)}`);
  }

  const suite = await run(runtime.cmd, ['test-runtimes/suite.mjs'], {
    ...backendEnv,
    ASYNC_IO_SUITE_CMD: JSON.stringify(runtime.cmd),
  });
  let completed = false;
  for (const line of suite.out.split('\n')) {
    let m;
    if ((m = /^ok (.*)$/.exec(line))) add(m[1], 'passed');
    else if ((m = /^not ok (.*?) -- (.*)$/.exec(line))) add(m[1], 'failed', m[2]);
    else if ((m = /^skip (.*?) -- (.*)$/.exec(line))) add(m[1], 'pending', m[2]);
    else if (/^# \d+ passed, \d+ failed/.test(line)) completed = true;
  }
  // A crash or a hang ends the run early: that is a failure of its own.
  if (!completed) add('suite ran to the end', 'failed', `exit ${suite.code ?? suite.signal}\n${tail(suite.out + suite.err)}`);
  return checks;
}

mkdirSync(results, { recursive: true });
let failedTotal = 0;
for (const runtime of selected) {
  for (const backend of backends) {
    const checks = await runOne(runtime, backend);
    const passed = checks.filter((c) => c.status === 'passed').length;
    const failed = checks.filter((c) => c.status === 'failed').length;
    const pending = checks.filter((c) => c.status === 'pending').length;
    failedTotal += failed;
    const suiteName = `runtimes: ${opts.label ? `${opts.label} ` : ''}${runtime.name}, ${backend}`;
    const report = {
      numTotalTests: checks.length,
      numPassedTests: passed,
      numFailedTests: failed,
      numPendingTests: pending,
      success: failed === 0,
      testResults: [
        {
          name: suiteName,
          status: failed === 0 ? 'passed' : 'failed',
          assertionResults: checks.map((c) => ({ ...c, fullName: `${suiteName} > ${c.title}`, ancestorTitles: [suiteName] })),
        },
      ],
    };
    writeFileSync(join(results, `runtimes-${opts.label ? `${opts.label}-` : ''}${runtime.name}-${backend}.json`), JSON.stringify(report, null, 2));
    console.log(`\n${suiteName}: ${passed} passed, ${failed} failed${pending ? `, ${pending} skipped` : ''}`);
    for (const c of checks) {
      const mark = c.status === 'passed' ? 'ok     ' : c.status === 'pending' ? 'skip   ' : 'FAILED ';
      console.log(`  ${mark}${c.title}${c.failureMessages.length ? `\n         ${c.failureMessages[0].split('\n').join('\n         ')}` : ''}`);
    }
  }
}
process.exit(failedTotal === 0 ? 0 : 1);
