#!/usr/bin/env node
// The quick start's engine: `npm run demo` and `npm test` work on a machine
// with only Node >= 20, npm and a C toolchain. Installs the pinned pnpm when
// it is missing (without corepack), installs, builds, then runs the task.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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

function run(args, options = {}) {
  const [cmd, ...rest] = [...pnpm, ...args];
  console.error(`\n$ ${[cmd, ...rest].join(' ')}`);
  const r = spawnSync(cmd, rest, { cwd: root, stdio: 'inherit', env, ...options });
  return r.status ?? 1;
}

function must(status) {
  if (status !== 0) process.exit(status);
}

const task = process.argv[2];
const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
must(run(['install', ...frozen]));
must(run(['run', 'build']));

if (task === 'demo') {
  must(spawnSync(process.execPath, ['examples/demo.mjs'], { cwd: root, stdio: 'inherit', env }).status ?? 1);
} else if (task === 'test') {
  rmSync(join(root, '.test-results'), { recursive: true, force: true });
  let status = run(['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue']);
  // Native memory safety: the suites again against ASan/UBSan builds.
  const sanitize = spawnSync(process.execPath, ['scripts/sanitize.mjs'], { cwd: root, stdio: 'inherit', env }).status;
  if (status === 0) status = sanitize ?? 1;
  // Every backend and backend-core against the real headers of each OS we ship for.
  const cross = spawnSync(process.execPath, ['scripts/test-cross.mjs'], { cwd: root, stdio: 'inherit', env }).status;
  if (status === 0) status = cross ?? 1;
  const summary = spawnSync(process.execPath, ['scripts/test-summary.mjs'], { cwd: root, stdio: 'inherit' }).status;
  process.exit(status !== 0 ? status : (summary ?? 1));
} else {
  console.error('usage: node scripts/run.mjs demo|test');
  process.exit(2);
}
