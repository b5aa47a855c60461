// Helpers for the end-to-end suite: run commands as a user would (clean env, a
// throw-away npm cache), start/stop Verdaccio on 127.0.0.1, pack and list tarballs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as requireModule from 'node:module';
import { dirname, join } from 'node:path';

export const root = join(import.meta.dirname, '..');

// The backends come from backend-core's table (its build; made here when missing).
if (!existsSync(join(root, 'packages', 'backend-core', 'dist', 'table.js'))) {
  run('pnpm', ['--filter', '@async-io/backend-core', 'run', 'build'], { cwd: root });
}
const { loadTable, packageDir } = await import('../scripts/sync-table.mjs');
/** backend-core's table: BACKENDS, FALLBACK_BACKEND, servesPlatform() ... */
export const TABLE = loadTable();
/** Each backend's folder under packages/, in table order. */
export const BACKENDS = TABLE.BACKENDS.map((b) => packageDir(b.package));
/** The folder of the fallback backend (a dependency of the facade, no `os` limit). */
export const FALLBACK = packageDir(TABLE.backendRow(TABLE.FALLBACK_BACKEND).package);
/** The published packages, in dependency order. */
export const PUBLISHED = ['backend-core', ...BACKENDS, 'reactor'];
/** The backend folders that serve `platform`, sorted. */
export function backendsFor(platform) {
  return TABLE.BACKENDS.filter((b) => TABLE.servesPlatform(b.name, platform)).map((b) => packageDir(b.package)).sort();
}
/** The `os` a backend's published manifest must carry: its platforms, none for the fallback. */
export function osOf(dir) {
  const row = TABLE.BACKENDS.find((b) => packageDir(b.package) === dir);
  return row.name === TABLE.FALLBACK_BACKEND ? undefined : [...row.platforms];
}

export function manifest(pkg) {
  return JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
}

/** A fresh directory under the OS temp dir, removed by cleanup(). */
const temps = [];
export function tempDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `async-io-e2e-${label}-`));
  temps.push(dir);
  return dir;
}
export function cleanup() {
  if (process.env.E2E_KEEP) return console.error(`kept: ${temps.join(' ')}`);
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** process.env without what a pnpm/npm script run injects: npm_config_*, and NODE_PATH (pnpm points
 * it at the workspace's hoisted modules, which would let a consumer resolve packages it lacks). */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|INIT_CWD$|NODE_PATH$|NODE_OPTIONS$|NODE_ENV$|VITEST|TEST$|ASYNC_IO_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Runs a command; throws with its output when it fails. Returns { stdout, stderr }. */
export function run(cmd, args, { cwd, env, allowFail = false, timeout = 300_000 } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: env ?? cleanEnv(), encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (!allowFail && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal ?? r.error}\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts Verdaccio on 127.0.0.1 with a throw-away storage, our scope served locally
 * only and everything else proxied to the npm registry. Returns
 * { url, npmrc (auth + registry lines), stop() }.
 */
export async function startRegistry() {
  const dir = tempDir('registry');
  const port = await freePort();
  const config = `
storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: 10
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
packages:
  '@async-io/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    publish: $authenticated
    proxy: npmjs
server:
  keepAliveTimeout: 60
log: { type: stdout, format: pretty, level: warn }
`;
  writeFileSync(join(dir, 'config.yaml'), config);
  const bin = join(import.meta.dirname, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  const child = spawn(process.execPath, [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`verdaccio did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // A user for publishing (htpasswd creates it on first PUT) and its token.
  const res = await fetch(`${url}-/user/org.couchdb.user:e2e`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'e2e', password: 'e2e-password', type: 'user', roles: [] }),
  });
  const { token } = await res.json();
  if (!token) throw new Error(`verdaccio gave no token (${res.status})`);
  const npmrc = `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`;
  return {
    url,
    port,
    npmrc,
    log: () => log,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** A fresh consumer project with an .npmrc pointing at the registry; env for npm/pnpm in it. */
export function project(label, registry) {
  const dir = tempDir(label);
  const home = join(dir, '.home');
  mkdirSync(home);
  writeFileSync(join(dir, '.npmrc'), `${registry.npmrc}store-dir=${join(home, 'pnpm-store')}\ncache-dir=${join(home, 'pnpm-cache')}\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `e2e-${label}`, version: '1.0.0', private: true }, null, 2));
  const env = cleanEnv({
    HOME: home,
    npm_config_userconfig: join(dir, '.npmrc'),
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_registry: registry.url,
  });
  return { dir, env };
}

/** Lists a .tgz's files (without the leading package/). */
export function tarList(tgz) {
  return execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}
/** One file of a .tgz, as text. */
export function readTar(tgz, file) {
  return execFileSync('tar', ['xzf', tgz, '-O', `package/${file}`], { encoding: 'utf8' });
}
/** The Bun binary of the root devDependency `bun` (its platform package, no install script needed). */
export function bunBinary() {
  const { createRequire } = requireModule;
  const from = createRequire(createRequire(join(root, 'package.json')).resolve('bun/package.json'));
  return join(dirname(from.resolve(`@oven/bun-linux-${process.arch === 'arm64' ? 'aarch64' : process.arch}/package.json`)), 'bin', 'bun');
}
/** The package.json inside a .tgz. */
export function tarManifest(tgz) {
  return JSON.parse(execFileSync('tar', ['xzf', tgz, '-O', 'package/package.json'], { encoding: 'utf8' }));
}

/** Names of the @async-io packages installed in a project (npm or pnpm layout). */
export function installedScope(dir) {
  const pnpmDir = join(dir, 'node_modules', '.pnpm');
  if (existsSync(pnpmDir)) {
    return readdirSync(pnpmDir)
      .filter((d) => d.startsWith('@async-io+'))
      .map((d) => d.replace(/^@async-io\+/, '').replace(/@.*$/, ''))
      .sort();
  }
  const scope = join(dir, 'node_modules', '@async-io');
  return existsSync(scope) ? readdirSync(scope).sort() : [];
}

/** A directory holding only node, npm and npx (and sh, which npm runs scripts with). */
export function noCompilerPath() {
  const dir = tempDir('nocc-bin');
  const npmCli = realNpmBin();
  for (const [name, target] of [
    ['node', process.execPath],
    ['npm', join(npmCli, 'npm-cli.js')],
    ['npx', join(npmCli, 'npx-cli.js')],
    ['sh', '/bin/sh'],
  ]) {
    execFileSync('ln', ['-s', target, join(dir, name)]);
  }
  return dir;
}
function realNpmBin() {
  const npm = execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8', env: cleanEnv() }).trim();
  return join(npm, '..');
}
