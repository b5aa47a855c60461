#!/usr/bin/env node
// `pnpm test:cross`: every backend and backend-core's sources compile, with
// -Wall -Wextra -Werror, against the real system headers of each OS we ship
// for (FreeBSD 14, NetBSD 10.1, macOS, illumos; x86_64 and aarch64) through
// cross-cc, a wrapper around clang-19 (see its README). Compile only: nothing
// is linked or run.
//
// Which files: each backend of the table (backend-core's dist/table.js) as its
// binding.gyp builds it for that OS (its mechanism file or its ENOSYS stub,
// plus backend-core's sources), each file once per target. Also checked: the
// backend the table prefers on that OS builds its mechanism, not the stub.
//
// cross-cc: <repo>/../shared/sysroots/cross-cc (CI clones the repo beside
// shared/), else $ASYNC_IO_SYSROOTS/cross-cc.
//
// Writes .test-results/cross.json (one test per target × file) for
// scripts/test-summary.mjs; exits non-zero on any failure.
//
//   node scripts/test-cross.mjs                        # all seven targets
//   node scripts/test-cross.mjs --targets x86_64-macos
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backends, table } from './backends.mjs';
import { gypTarget } from './cross-prebuild.mjs';

const root = resolve(import.meta.dirname, '..');
const results = join(root, '.test-results');

/** cross-cc's targets → the OS as Node (process.platform) and gyp name it. */
const TARGETS = {
  'x86_64-freebsd': { platform: 'freebsd', gyp: 'freebsd' },
  'aarch64-freebsd': { platform: 'freebsd', gyp: 'freebsd' },
  'x86_64-netbsd': { platform: 'netbsd', gyp: 'netbsd' },
  'aarch64-netbsd': { platform: 'netbsd', gyp: 'netbsd' },
  'x86_64-macos': { platform: 'darwin', gyp: 'mac' },
  'aarch64-macos': { platform: 'darwin', gyp: 'mac' },
  'x86_64-illumos': { platform: 'sunos', gyp: 'solaris' },
};

/** What the real headers make the sources choose, per OS: a wrong #if would take another
 * path in silence (no pipe2() on illumos, a priority filter FreeBSD lacks). */
const KQUEUE_BSD = { AIO__HAVE_PRIORITY: false, AIO__HAVE_KQUEUE1: true, EVFILT_USER: true, EV_RECEIPT: true, EV_DISPATCH: true };
const FACTS = {
  freebsd: { 'packages/bsd-kqueue/src/kqueue.c': KQUEUE_BSD, 'packages/backend-core/src/fd.c': { AIO_HAVE_PIPE2: true } },
  netbsd: { 'packages/bsd-kqueue/src/kqueue.c': KQUEUE_BSD, 'packages/backend-core/src/fd.c': { AIO_HAVE_PIPE2: true } },
  darwin: {
    'packages/bsd-kqueue/src/kqueue.c': { ...KQUEUE_BSD, AIO__HAVE_PRIORITY: true, AIO__HAVE_KQUEUE1: false },
    'packages/backend-core/src/fd.c': { AIO_HAVE_PIPE2: false },
  },
  sunos: { 'packages/backend-core/src/fd.c': { AIO_HAVE_PIPE2: true, SOCK_CLOEXEC: true, SOCK_NONBLOCK: true } },
};

function findCrossCc() {
  const candidates = [join(root, '..', 'shared', 'sysroots'), process.env.ASYNC_IO_SYSROOTS].filter(Boolean);
  for (const dir of candidates) {
    const cc = join(dir, 'cross-cc');
    if (existsSync(cc)) return cc;
  }
  throw new Error(`no cross-cc in ${candidates.join(' or ')} (clone the repo beside shared/, or set ASYNC_IO_SYSROOTS)`);
}

function nodeInclude() {
  const dir = [join(dirname(dirname(process.execPath)), 'include', 'node'), '/usr/include/node'].find((d) =>
    existsSync(join(d, 'node_api.h')),
  );
  if (!dir) throw new Error('no Node headers (node_api.h) next to node or in /usr/include/node');
  return dir;
}

function run(cmd, args) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => done({ status: 1, out: String(e) }));
    child.on('close', (status) => done({ status, out }));
  });
}

async function pool(jobs, width) {
  const out = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

function report(tests, extra) {
  const passed = tests.filter((t) => t.ok).length;
  const json = {
    numPassedTests: passed,
    numFailedTests: tests.length - passed,
    numTotalTests: tests.length,
    testResults: [
      {
        name: 'cross-compile',
        status: passed === tests.length ? 'passed' : 'failed',
        assertionResults: tests.map((t) => ({ title: t.title, status: t.ok ? 'passed' : 'failed', failureMessages: t.ok ? [] : [t.detail] })),
      },
    ],
    ...extra,
  };
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'cross.json'), JSON.stringify(json));
  return json;
}

async function main() {
  const { values } = parseArgs({ options: { targets: { type: 'string' } } });
  const targets = values.targets ? values.targets.split(',') : Object.keys(TARGETS);
  for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target ${t}; known: ${Object.keys(TARGETS).join(', ')}`);
  let crossCc;
  const tests = [];
  try {
    crossCc = findCrossCc();
  } catch (e) {
    tests.push({ title: 'cross-cc is there', ok: false, detail: String(e.message) });
    report(tests);
    console.error(`test-cross: ${e.message}`);
    process.exit(1);
  }
  const rows = backends();
  const preferred = table().preferredBackend;
  const include = nodeInclude();
  const objDir = mkdtempSync(join(tmpdir(), 'async-io-cross-'));
  const jobs = [];
  try {
    for (const target of targets) {
      const os = TARGETS[target];
      const files = new Map(); // absolute path -> compile flags of its target
      for (const b of rows) {
        const gyp = gypTarget(b.dir, os.gyp);
        const flags = [...gyp.cflags, ...gyp.includes.map((d) => `-I${resolve(b.dir, d)}`)];
        const sources = gyp.sources.map((s) => resolve(b.dir, s));
        for (const s of sources) if (!files.has(s)) files.set(s, flags);
        if (b.name === preferred(os.platform) || b.name === 'poll') {
          const stub = sources.find((s) => /\/no-[\w-]+\.c$/.test(s));
          tests.push({
            title: `${target}: ${b.name} builds its mechanism, not the stub`,
            ok: !stub,
            detail: `binding.gyp gives ${sources.map((s) => relative(root, s)).join(', ')}`,
          });
        }
      }
      for (const [file, flags] of files) {
        const title = `${target}: ${relative(root, file)}`;
        const obj = join(objDir, `${target}-${relative(root, file).replace(/[/\\]/g, '_')}.o`);
        const args = [target, '-Wall', '-Wextra', '-Werror', '-fPIC', '-pthread', ...flags, `-I${include}`, '-DBUILDING_NODE_EXTENSION', '-c', file, '-o', obj];
        jobs.push(async () => {
          const r = await run(crossCc, args);
          const ok = r.status === 0;
          console.log(`${ok ? 'ok  ' : 'FAIL'} ${title}`);
          if (!ok) console.log(r.out.trimEnd());
          return { title, ok, detail: `cross-cc ${args.join(' ')}\n${r.out}` };
        });
        const facts = FACTS[os.platform]?.[relative(root, file)];
        if (facts) {
          const want = Object.entries(facts).map(([m, on]) => `${m}=${on ? 'yes' : 'no'}`).join(', ');
          const factTitle = `${target}: ${relative(root, file)} sees ${want}`;
          const pre = [target, ...flags, `-I${include}`, '-E', '-dM', file];
          jobs.push(async () => {
            const r = await run(crossCc, pre);
            const defined = new Set([...r.out.matchAll(/^#define (\w+)/gm)].map((m) => m[1]));
            const wrong = Object.entries(facts).filter(([m, on]) => defined.has(m) !== on).map(([m]) => m);
            const ok = r.status === 0 && wrong.length === 0;
            console.log(`${ok ? 'ok  ' : 'FAIL'} ${factTitle}`);
            return { title: factTitle, ok, detail: r.status !== 0 ? r.out : `wrong: ${wrong.join(', ')}` };
          });
        }
      }
    }
    tests.push(...(await pool(jobs, Math.max(1, Math.min(4, availableParallelism())))));
  } finally {
    rmSync(objDir, { recursive: true, force: true });
  }
  const json = report(tests, { cross: { crossCc, targets } });
  console.log(`test-cross: ${json.numPassedTests} passed, ${json.numFailedTests} failed (${targets.length} targets, ${jobs.length} compiles)`);
  process.exit(json.numFailedTests === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  report([{ title: 'test-cross ran', ok: false, detail: String(e && e.stack) }]);
  process.exit(1);
});
