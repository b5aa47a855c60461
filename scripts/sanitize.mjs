#!/usr/bin/env node
// Native memory safety: builds each backend addon that compiles
// here with AddressSanitizer + UndefinedBehaviorSanitizer into a private
// directory, then runs the conformance and hardening suites against those
// builds in Node with libasan preloaded (Node itself is not instrumented).
// Any sanitizer report, from the test process or any child it spawns, fails
// the run. If ASan cannot be loaded into Node here, falls back to valgrind
// memcheck on a smaller script exercising the Poller.
//
// Writes .test-results/sanitize.json: vitest's JSON report plus one test
// "no sanitizer report" (passed or failed), so scripts/test-summary.mjs
// counts it like any suite. Exit status non-zero on any failure.
//
// Which backends: the table's (backend-core's dist/table.js) whose binding.gyp
// builds the real mechanism on this OS (not its ENOSYS stub); with --emulated
// also those whose test/shim/binding.gyp builds it on a kernel emulation.
// Which sources: what that binding.gyp lists (backend-core's and the mechanism).
//
//   node scripts/sanitize.mjs                      # every backend that builds, both suites
//   node scripts/sanitize.mjs --backends epoll --suites conformance
//   node scripts/sanitize.mjs --emulated           # kqueue and event ports on their shims too
//   node scripts/sanitize.mjs --plain              # same harness, no sanitizer (debugging)
//   node scripts/sanitize.mjs --source epoll=/tmp/mutant.c   # build another mechanism file
//   node scripts/sanitize.mjs --no-native          # skip the C suites (`make asan`)
//
// Also, unless --plain or --no-native: each backend's C suites (the contract
// suite and its own checks, test/native) built with ASan/UBSan by `make asan`,
// every check one test in the same report.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { backends } from './backends.mjs';
import { gypTarget } from './cross-prebuild.mjs';

const root = join(import.meta.dirname, '..');
const results = join(root, '.test-results');

/** gyp's name for this OS. */
const GYP_OS = { linux: 'linux', darwin: 'mac', freebsd: 'freebsd', openbsd: 'openbsd', netbsd: 'netbsd', sunos: 'solaris' }[process.platform];

/** A backend's mechanism file among its sources: its own src/<name>.c. */
const isMechanism = (dir, file) => dirname(file) === join(dir, 'src');

/** One addon per backend whose binding.gyp (or, emulated, test/shim's) builds its mechanism here. */
function addons(emulated) {
  const list = [];
  for (const b of backends()) {
    const gyps = [{ dir: b.dir, name: b.name }];
    if (emulated) gyps.push({ dir: join(b.dir, 'test', 'shim'), name: `${b.name}-emulated` });
    for (const g of gyps) {
      if (!existsSync(join(g.dir, 'binding.gyp'))) continue;
      const gyp = gypTarget(g.dir, GYP_OS);
      const files = gyp.sources.map((f) => resolve(g.dir, f));
      if (files.some((f) => /\/no-[\w-]+\.c$/.test(f))) continue; // the ENOSYS stub: nothing to check
      const mechanism = files.find((f) => isMechanism(b.dir, f));
      list.push({ name: g.name, target: gyp.name, files, mechanism, cflags: gyp.cflags, includes: gyp.includes.map((d) => resolve(g.dir, d)) });
      break; // the real build, where there is one, stands for the emulated one
    }
  }
  return list;
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const plain = process.argv.includes('--plain');
/** A short tag of this checkout's path. */
function checkoutTag() {
  return createHash('sha256').update(join(import.meta.dirname, '..')).digest('hex').slice(0, 12);
}
const ADDONS = addons(process.argv.includes('--emulated'));
const wanted = arg('backends', ADDONS.map((a) => a.name).join(',')).split(',');
const suites = arg('suites', 'conformance,hardening').split(',');
// One directory per checkout: two clones' runs at once (CI beside CI) must not
// wipe each other's builds.
const out = arg('out', join(tmpdir(), `${plain ? 'async-io-plain' : 'async-io-sanitize'}-${checkoutTag()}`));
const report = arg('report', plain ? join(out, 'report.json') : join(results, 'sanitize.json'));
const sources = Object.fromEntries(
  (arg('source', '') || '').split(',').filter(Boolean).map((s) => s.split('=')),
);

const cc = process.env.CC || 'cc';
const SAN = ['-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize=alignment'];
const nodeInclude = [join(dirname(dirname(process.execPath)), 'include', 'node'), '/usr/include/node'].find((d) =>
  existsSync(join(d, 'node_api.h')),
);

function log(line) {
  console.error(`sanitize: ${line}`);
}

/** Compiles one addon directly with cc, from its binding.gyp's sources (--source swaps the mechanism). */
function build(addon) {
  const mechanism = sources[addon.name];
  if (mechanism && !existsSync(mechanism)) return { skipped: `${mechanism} does not exist` };
  const files = addon.files.map((f) => (f === addon.mechanism && mechanism ? mechanism : f));
  const file = join(out, `${addon.target}.node`);
  const args = [
    ...addon.cflags, '-shared', '-fPIC', '-g', '-O1', '-Wall',
    ...(plain ? [] : SAN),
    `-DNODE_GYP_MODULE_NAME=${addon.target}`, '-DBUILDING_NODE_EXTENSION', '-D_GNU_SOURCE',
    '-I', nodeInclude, ...addon.includes.flatMap((d) => ['-I', d]),
    ...files,
    '-o', file, '-lpthread',
  ];
  log(`${cc} ${args.join(' ')}`);
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.status !== 0) return { failed: `${cc} failed:\n${r.stderr}` };
  // The module the suites load: the same public API as the package, over this build.
  const wrapper = join(out, `${addon.name}.cjs`);
  writeFileSync(
    wrapper,
    `'use strict';
const core = require(${JSON.stringify(join(root, 'packages', 'backend-core', 'dist', 'internal.js'))});
const file = ${JSON.stringify(file)};
module.exports = { ...core.fromAddon({ addon: require(file), file, prebuilt: false }), Events: core.Events };
`,
  );
  return { file, wrapper };
}

function sanitizerEnv(logs) {
  if (plain) return {};
  const preload = ['libasan.so', 'libubsan.so']
    .map((lib) => execFileSync(cc, [`-print-file-name=${lib}`], { encoding: 'utf8' }).trim())
    .filter((p) => p.startsWith('/'));
  return {
    LD_PRELOAD: preload.join(':'),
    // Node is not instrumented: its own leaks are not ours to report.
    ASAN_OPTIONS: `detect_leaks=0:log_path=${join(logs, 'asan')}:abort_on_error=0:handle_segv=1:allow_user_segv_handler=1`,
    UBSAN_OPTIONS: `print_stacktrace=1:log_path=${join(logs, 'ubsan')}`,
    ASYNC_IO_HARDENING_LIGHT: '1',
  };
}

/** Can Node run with the sanitizer runtime preloaded and load an instrumented addon? */
function probe(built, env) {
  const r = spawnSync(
    process.execPath,
    ['-e', `const m = require(${JSON.stringify(built.wrapper)}); const p = new m.Poller(); p.notify(); p.wait(new m.Events(), 0); p.close(); console.log('ok')`],
    { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
  );
  return { ok: r.status === 0 && r.stdout.trim() === 'ok', detail: `${r.stdout}${r.stderr}`.trim().slice(0, 2000) };
}

/** Sanitizer reports written by any process of the run. */
function findings(logs) {
  if (!existsSync(logs)) return [];
  return readdirSync(logs)
    .map((f) => ({ file: join(logs, f), text: readFileSync(join(logs, f), 'utf8') }))
    .filter((f) => f.text.trim() !== '');
}

function vitestRun(built, env) {
  const tests = join(out, 'tests');
  rmSync(tests, { recursive: true, force: true });
  mkdirSync(join(tests, 'node_modules', '@async-io'), { recursive: true });
  symlinkSync(join(root, 'packages', 'conformance'), join(tests, 'node_modules', '@async-io', 'conformance'));
  for (const b of built) {
    const lines = ["import { describeConformance, describeHardening } from '@async-io/conformance';", ''];
    const label = `${b.name}${plain ? '' : '+asan+ubsan'}`;
    if (suites.includes('conformance')) lines.push(`describeConformance({ modulePath: ${JSON.stringify(b.wrapper)}, label: '${label}' });`);
    if (suites.includes('hardening')) lines.push(`describeHardening({ modulePath: ${JSON.stringify(b.wrapper)}, label: '${label}' });`);
    writeFileSync(join(tests, `${b.name}.test.ts`), `${lines.join('\n')}\n`);
  }
  writeFileSync(
    join(tests, 'vitest.config.mjs'),
    `export default { test: { include: ['*.test.ts'], pool: 'forks', testTimeout: 300000, hookTimeout: 120000,
  reporters: ['default', 'json'], outputFile: { json: ${JSON.stringify(report)} } } };\n`,
  );
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const r = spawnSync(process.execPath, [vitest, 'run', '--root', tests, '--config', join(tests, 'vitest.config.mjs')], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
    timeout: 20 * 60_000,
  });
  return r.status ?? 1;
}

/** valgrind fallback: a smaller script exercising the Poller, memcheck errors fail it. */
function valgrindRun(built) {
  const script = join(out, 'exercise.cjs');
  writeFileSync(
    script,
    `'use strict';
for (const modulePath of ${JSON.stringify(built.map((b) => b.wrapper))}) {
  const m = require(modulePath);
  const events = new m.Events(64);
  for (let i = 0; i < 200; i++) {
    const p = new m.Poller();
    const [r, w] = m.pipe();
    const [a, b] = m.socketpair();
    p.add(r, 1, { readable: true });
    p.add(a, 2, { readable: true, writable: true }, 'level');
    m.write(w, Buffer.from('x'));
    p.wait(events, 100);
    p.modify(r, 3, { readable: true }, 'oneshot');
    p.wait(events, 0);
    p.notify();
    p.wait(events, 0);
    const q = m.Poller.fromShared(p.share());
    p.delete(r);
    try { p.add(a, 4, { readable: true }); } catch {}
    try { p.add(-1, 4, {}); } catch {}
    q.close(); p.close();
    for (const fd of [r, w, a, b]) m.close(fd);
  }
}
console.log('ok');
`,
  );
  const r = spawnSync('valgrind', ['--error-exitcode=1', '--leak-check=no', '--trace-children=no', process.execPath, script], {
    encoding: 'utf8',
    timeout: 20 * 60_000,
  });
  const ok = r.status === 0 && r.stdout.includes('ok');
  const json = {
    numPassedTests: ok ? 1 : 0,
    numFailedTests: ok ? 0 : 1,
    numTotalTests: 1,
    testResults: [
      {
        name: 'valgrind memcheck',
        status: ok ? 'passed' : 'failed',
        assertionResults: [{ title: 'valgrind memcheck of the Poller exercise', status: ok ? 'passed' : 'failed', failureMessages: ok ? [] : [r.stderr.slice(-20000)] }],
      },
    ],
  };
  writeFileSync(report, JSON.stringify(json));
  return ok ? 0 : 1;
}

/** `make asan` in every backend's test/native: one test per check line. */
function nativeAsan() {
  const results = [];
  let status = 0;
  for (const b of backends()) {
    const dir = join(b.dir, 'test', 'native');
    if (!existsSync(join(dir, 'Makefile'))) continue;
    log(`make -C ${dir} asan`);
    const r = spawnSync('make', ['-s', '-C', dir, 'asan'], { encoding: 'utf8', timeout: 10 * 60_000 });
    const checks = [...`${r.stdout}`.matchAll(/^(ok|FAIL)\s+(.*)$/gm)].map((m) => ({ ok: m[1] === 'ok', name: m[2].trim() }));
    if (r.status !== 0 || checks.length === 0 || checks.some((c) => !c.ok)) status = 1;
    results.push({
      name: `C suites of ${b.name} under ASan/UBSan`,
      status: r.status === 0 && checks.length > 0 ? 'passed' : 'failed',
      assertionResults: [
        { title: `${b.name}: make asan builds and exits 0`, status: r.status === 0 && checks.length > 0 ? 'passed' : 'failed', failureMessages: r.status === 0 ? [] : [`${r.stdout}\n${r.stderr}`.slice(-8000)] },
        ...checks.map((c) => ({ title: `${b.name} asan: ${c.name}`, status: c.ok ? 'passed' : 'failed', failureMessages: [] })),
      ],
    });
  }
  return { results, status };
}

function main() {
  if (!nodeInclude) {
    log('no Node headers (node_api.h) found next to node or in /usr/include/node');
    process.exit(1);
  }
  mkdirSync(results, { recursive: true });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const logs = join(out, 'logs');
  mkdirSync(logs, { recursive: true });
  const built = [];
  const summary = { plain, backends: {}, suites, findings: [] };
  for (const addon of ADDONS.filter((a) => wanted.includes(a.name))) {
    const b = build(addon);
    summary.backends[addon.name] = b.skipped ? `skipped: ${b.skipped}` : b.failed ? 'build failed' : 'built';
    if (b.failed) {
      log(b.failed);
      process.exit(1);
    }
    if (b.skipped) log(`${addon.name}: skipped, ${b.skipped}`);
    else built.push({ name: addon.name, ...b });
  }
  if (built.length === 0) {
    log('nothing built');
    process.exit(1);
  }
  const env = sanitizerEnv(logs);
  const p = probe(built[0], env);
  let status;
  if (p.ok) {
    log(`running ${suites.join(' + ')} against ${built.map((b) => b.name).join(', ')}${plain ? '' : ` with LD_PRELOAD=${env.LD_PRELOAD}`}`);
    status = vitestRun(built, env);
  } else {
    log(`ASan cannot be loaded into Node here (${p.detail}); falling back to valgrind memcheck`);
    summary.fallback = 'valgrind';
    status = valgrindRun(built);
  }
  // Reports from every process of the run (test forks and the children they spawned).
  const found = findings(logs);
  summary.findings = found.map((f) => ({ file: f.file, head: f.text.slice(0, 4000) }));
  for (const f of found) {
    log(`sanitizer report in ${f.file}:`);
    console.error(f.text);
  }
  // Count the sanitizer check as one test in the report the summary reads.
  let json = { numPassedTests: 0, numFailedTests: 1, numTotalTests: 1, testResults: [] };
  try {
    json = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    log(`no test report at ${report}`);
  }
  if (!plain && !process.argv.includes('--no-native')) {
    const native = nativeAsan();
    for (const r of native.results) {
      json.testResults.push(r);
      for (const a of r.assertionResults) {
        if (a.status === 'passed') json.numPassedTests++;
        else json.numFailedTests++;
        json.numTotalTests++;
      }
    }
    if (native.status !== 0) status = 1;
  }
  const clean = found.length === 0;
  json.testResults.push({
    name: 'sanitizer logs',
    status: clean ? 'passed' : 'failed',
    assertionResults: [
      { title: `no ${plain ? 'sanitizer (plain build)' : 'ASan/UBSan'} report from any process`, status: clean ? 'passed' : 'failed', failureMessages: found.map((f) => f.text) },
    ],
  });
  if (clean) json.numPassedTests++;
  else json.numFailedTests++;
  json.numTotalTests++;
  json.sanitize = summary;
  writeFileSync(report, JSON.stringify(json));
  log(`${json.numPassedTests} passed, ${json.numFailedTests} failed; ${found.length} sanitizer report(s); backends ${JSON.stringify(summary.backends)}; report ${report}`);
  process.exit(status !== 0 || !clean ? 1 : 0);
}

main();
