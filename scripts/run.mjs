#!/usr/bin/env node
// The quick start's engine: `npm run demo` and `npm test` work on a machine
// with only Node >= 20, npm and a C toolchain. Installs the pinned pnpm when
// it is missing (without corepack), installs, builds, then runs the task.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

function pnpmCommand() {
  try {
    const v = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (v.split('.')[0] === pinned.split('.')[0]) return ['pnpm'];
  } catch {}
  return ['npx', '--yes', `pnpm@${pinned}`];
}

const pnpm = pnpmCommand();

/** pnpm keeps a copy of the lockfile it installed in node_modules/.pnpm/lock.yaml: equal, and
 * no manifest newer than it, means `pnpm install` would find nothing to do. */
function installed() {
  const copy = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (!existsSync(copy) || readFileSync(copy, 'utf8') !== readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8')) return false;
  const since = statSync(copy).mtimeMs;
  return gitFiles(['package.json', 'pnpm-workspace.yaml', '*/package.json', 'packages/*/package.json']).every((f) => statSync(f).mtimeMs <= since);
}

/** Files git knows (tracked, or new and not ignored) matching the pathspecs. */
function gitFiles(pathspecs) {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...pathspecs], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return null;
  return [...new Set(r.stdout.split('\0').filter(Boolean))].map((f) => join(root, f)).filter((f) => existsSync(f));
}

/** What `pnpm build` reads, as path + size + mtime lines (and the Node that builds), or null
 * outside a git checkout; with the outputs' presence, so a deleted dist/ or build/ rebuilds. */
const stampFile = join(root, 'node_modules', '.cache', 'async-io-build.stamp');
function buildInputs() {
  const files = gitFiles(['packages', 'scripts', 'tsconfig*.json', 'turbo.json', 'pnpm-lock.yaml', 'examples/package.json']);
  if (!files) return null;
  const lines = files.map((f) => {
    const st = statSync(f);
    return `${f} ${st.size} ${st.mtimeMs}`;
  });
  for (const dir of readdirSync(join(root, 'packages'))) {
    const pkg = join(root, 'packages', dir);
    if (!existsSync(join(pkg, 'package.json'))) continue;
    const build = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).scripts?.build;
    if (!build) continue;
    lines.push(`${dir} dist ${existsSync(join(pkg, 'dist', 'index.js'))}`);
    if (existsSync(join(pkg, 'binding.gyp'))) {
      const release = join(pkg, 'build', 'Release');
      lines.push(`${dir} addon ${existsSync(release) && readdirSync(release).some((f) => f.endsWith('.node'))}`);
    }
  }
  return `${process.version}\n${lines.sort().join('\n')}\n`;
}
function readStamp() {
  return existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : undefined;
}

/** Whether dependency `name` (any version in the virtual store) has a compiled addon. */
function hasAddon(name) {
  const store = join(root, 'node_modules', '.pnpm');
  const dirs = existsSync(store) ? readdirSync(store).filter((d) => d.startsWith(`${name.replace('/', '+')}@`)) : [];
  return dirs.some((d) => {
    const release = join(store, d, 'node_modules', name, 'build', 'Release');
    return existsSync(release) && readdirSync(release).some((f) => f.endsWith('.node'));
  });
}

const task = process.argv[2];
if (task !== 'demo' && task !== 'test') {
  console.error('usage: node scripts/run.mjs demo|test');
  process.exit(2);
}
const logDir = join(root, '.logs');
const logFile = join(logDir, `${task}.log`);
mkdirSync(logDir, { recursive: true });
writeFileSync(logFile, '');

/** Runs a step with its output in the log file; one line on the terminal. */
function step(label, cmd, args, options = {}) {
  const started = Date.now();
  appendFileSync(logFile, `\n$ ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 256 << 20, ...options });
  appendFileSync(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  const status = r.status ?? 1;
  console.error(`${status === 0 ? 'ok  ' : 'FAIL'} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (status !== 0) {
    console.error(`${label} failed (exit ${status}); its output is in ${logFile}`);
    process.exit(status);
  }
}

/** Runs a pnpm command with its output shown (the test suites' own reports). */
function run(args, options = {}) {
  const [cmd, ...rest] = [...pnpm, ...args];
  console.error(`\n$ ${[cmd, ...rest].join(' ')}`);
  const r = spawnSync(cmd, rest, { cwd: root, stdio: 'inherit', env, ...options });
  return r.status ?? 1;
}

const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
const [pm, ...pmArgs] = pnpm;
// --ignore-scripts: pnpm would otherwise run `node-gyp rebuild` in every backend on every
// install (its implicit script for a package with a binding.gyp), before the build that
// compiles them anyway. The one dependency allowed to build (onlyBuiltDependencies: the
// `epoll` package the bench compares with) is rebuilt only while its addon is missing.
if (installed()) console.error('ok   install: node_modules matches pnpm-lock.yaml');
else step('install (pnpm install)', pm, [...pmArgs, 'install', '--ignore-scripts', ...frozen]);
const built = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).pnpm?.onlyBuiltDependencies ?? [];
const unbuilt = built.filter((name) => !hasAddon(name));
if (unbuilt.length) step(`install scripts of ${unbuilt.join(', ')} (pnpm rebuild)`, pm, [...pmArgs, '-r', 'rebuild', ...unbuilt]);
// turbo directly, not `pnpm run build`, so that no pre-hook can run first.
const sources = buildInputs();
if (sources === readStamp()) console.error('ok   build: no source changed since the last build');
else {
  step('build (turbo run build: TypeScript, one link per addon)', pm, [...pmArgs, 'exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
  // Taken again after the build: the build rewrites some inputs (sync-table.mjs).
  const after = buildInputs();
  if (after) {
    mkdirSync(dirname(stampFile), { recursive: true });
    writeFileSync(stampFile, after);
  }
}

if (task === 'demo') {
  const demo = spawnSync(process.execPath, ['examples/demo.mjs'], { cwd: root, stdio: 'inherit', env }).status ?? 1;
  if (demo !== 0) console.error(`the demo failed (exit ${demo}); install and build output is in ${logFile}`);
  process.exit(demo);
} else {
  rmSync(join(root, '.test-results'), { recursive: true, force: true });
  // The prebuilds users get (zig: every target, readelf-checked), and the suites load them
  // (PREBUILDS_ONLY: node-gyp-build skips build/), so what is tested is what is published.
  step('prebuilds (pnpm prebuild: zig cc, every target, glibc <= 2.17)', process.execPath, ['scripts/cross-prebuild.mjs', '--all']);
  let status = run(['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue'], { env: { ...env, PREBUILDS_ONLY: '1' } });
  // Native memory safety: the suites again against ASan/UBSan builds.
  const sanitize = spawnSync(process.execPath, ['scripts/sanitize.mjs'], { cwd: root, stdio: 'inherit', env }).status;
  if (status === 0) status = sanitize ?? 1;
  // Every backend and backend-core against the real headers of each OS we ship for.
  // Data races in the reactor's threads: its facade suites on ThreadSanitizer builds.
  const tsanEnv = { ...env, ASYNC_IO_TSAN_SUITES: process.env.ASYNC_IO_TSAN_SUITES ?? 'test/process.test.ts,test/readiness.test.ts' };
  const tsan = spawnSync(process.execPath, ['scripts/tsan.mjs'], { cwd: root, stdio: 'inherit', env: tsanEnv }).status;
  if (status === 0) status = tsan ?? 1;
  const cross = spawnSync(process.execPath, ['scripts/test-cross.mjs'], { cwd: root, stdio: 'inherit', env }).status;
  if (status === 0) status = cross ?? 1;
  const summary = spawnSync(process.execPath, ['scripts/test-summary.mjs'], { cwd: root, stdio: 'inherit' }).status;
  process.exit(status !== 0 ? status : (summary ?? 1));
}
