// Packs every package, publishes them to a throw-away Verdaccio on 127.0.0.1 and
// installs them in fresh projects as users do, one scenario per test.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { compareVersions, elfInfo, elfProblems, GLIBC_MAX } from '../scripts/elf-check.mjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  FALLBACK,
  PUBLISHED,
  backendsFor,
  cleanEnv,
  cleanup,
  installedScope,
  manifest,
  noCompilerPath,
  osOf,
  project,
  bunBinary,
  readTar,
  root,
  run,
  startRegistry,
  tarList,
  tarManifest,
  tempDir,
} from './harness.mjs';

const HOST = `${process.platform}-${process.arch}`;
/** What `pnpm prebuild` makes on this Linux host, with zig (glibc 2.17, and musl-tagged). */
const HOST_TARGETS = ['linux-x64', 'linux-x64.musl', 'linux-arm64', 'linux-arm64.musl', 'linux-arm', 'linux-arm.musl', 'darwin-x64', 'darwin-arm64'];
/** The prebuilds each backend's tarball must carry: every host target of a platform it serves. */
const EXPECTED_PREBUILDS = Object.fromEntries(
  BACKENDS.map((b) => [
    b,
    HOST_TARGETS.filter((t) => backendsFor(t.split('-')[0]).includes(b)).map((t) => {
      const [dir, musl] = t.split('.');
      return `prebuilds/${dir}/@async-io+${b}${musl ? '.musl' : ''}.node`;
    }),
  ]).filter(([, files]) => files.length > 0),
);
/** The platform backends and the `os` their published manifests carry. */
const PLATFORM_BACKENDS = Object.fromEntries(BACKENDS.filter((b) => b !== FALLBACK).map((b) => [b, osOf(b)]));
/** What `npm install @async-io/reactor` puts on this Linux host. */
const FACADE_ON_LINUX = ['backend-core', ...backendsFor('linux'), 'reactor'].sort();
const NOT_FOR_LINUX = BACKENDS.filter((b) => !backendsFor('linux').includes(b));

let registry;
const tarballs = {}; // package dir name → .tgz path
const setupNotes = [];

beforeAll(async () => {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the e2e suite runs on linux-x64, not ${HOST}`);
  // 1. dist/ must exist (pnpm build); build it when it does not.
  if (PUBLISHED.some((p) => !existsSync(join(root, 'packages', p, 'dist', 'index.js')))) {
    run('pnpm', ['run', 'build'], { cwd: root, allowFail: true });
  }
  // 2. Prebuilds, made fresh by `pnpm prebuild` (zig, every target; it removes stale ones
  //    first, e.g. a stub kqueue build for linux-x64, which must not reach a tarball).
  const cross = run(process.execPath, [join(root, 'scripts', 'cross-prebuild.mjs'), '--all'], { cwd: root, allowFail: true });
  if (cross.status !== 0) setupNotes.push(`pnpm prebuild failed:\n${cross.stderr.slice(-2000)}`);
  if (setupNotes.length) console.error(setupNotes.join('\n'));
  // 3. Pack every package with pnpm (rewrites workspace: ranges, applies publishConfig).
  const packDir = tempDir('packs');
  for (const p of PUBLISHED) {
    run('pnpm', ['pack', '--pack-destination', packDir], { cwd: join(root, 'packages', p) });
    const m = manifest(p);
    tarballs[p] = join(packDir, `${m.name.replace('@', '').replace('/', '-')}-${m.version}.tgz`);
  }
  // 4. A throw-away registry, and every package published to it.
  registry = await startRegistry();
  const publisher = project('publisher', registry);
  for (const p of PUBLISHED) {
    run('npm', ['publish', tarballs[p], '--access', 'public'], { cwd: publisher.dir, env: publisher.env });
  }
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

/** Runs `node -e code` (or `node --input-type=module`) inside a project. */
function nodeIn(p, code, { esm = false, env = {} } = {}) {
  const args = esm ? ['--input-type=module', '-e', code] : ['-e', code];
  return run(process.execPath, args, { cwd: p.dir, env: { ...p.env, ...env } });
}
const FD_PROBE = `const r = require('@async-io/reactor'); const i = r.backendInfo();
console.log(JSON.stringify({ fd: r.reactorFd(), name: i.name, file: i.file, prebuilt: i.prebuilt }));`;
const fdProbe = (p, env) => JSON.parse(nodeIn(p, FD_PROBE, { env }).stdout);

function expectNoBuildDirs(p) {
  for (const b of BACKENDS) {
    expect(existsSync(join(p.dir, 'node_modules', '@async-io', b, 'build')), `${b}/build/ exists: the install compiled`).toBe(false);
  }
}

describe('tarballs (pnpm pack)', () => {
  it('carry dist with CJS and ESM entry points and types, sources for a fallback compile, and no tests or build output', () => {
    for (const p of PUBLISHED) {
      const files = tarList(tarballs[p]);
      for (const f of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts']) {
        expect(files, `${p} lacks ${f}`).toContain(f);
      }
      expect(files, `${p} lacks LICENSE`).toContain('LICENSE');
      expect(readTar(tarballs[p], 'LICENSE'), `${p}: LICENSE is not the repo's`).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
      if (BACKENDS.includes(p)) {
        // At the root, pnpm 10 would count binding.gyp as an install script ("Ignored build scripts").
        expect(files, `${p} lacks src/binding.gyp`).toContain('src/binding.gyp');
        expect(files, `${p} ships binding.gyp at its root`).not.toContain('binding.gyp');
        expect(files.some((f) => /^src\/[\w-]+\.c$/.test(f)), `${p} lacks its src/<mechanism>.c`).toBe(true);
      }
      const bad = files.filter((f) => /^(test|build|node_modules|\.turbo)\/|\.test\.|tsbuildinfo$|vitest\.config/.test(f));
      expect(bad, `${p} ships ${bad.join(', ')}`).toEqual([]);
    }
    expect(tarList(tarballs['backend-core'])).toEqual(expect.arrayContaining(['gyp.js', 'gyp.d.ts', 'include/async_io/backend.h', 'src/internal.h', 'src/front.c', 'src/napi.c', 'src/fd.c', 'src/reactor.c', 'src/constants.c', 'src/constants.h', 'src/stub.c']));
    expect(tarList(tarballs.reactor)).toContain('dist/cli.js');
  });

  it('each backend carries exactly the prebuilds of the platforms it serves, in prebuildify naming', () => {
    for (const b of BACKENDS) {
      const have = tarList(tarballs[b]).filter((f) => f.startsWith('prebuilds/') && f.endsWith('.node')).sort();
      expect(have, `${b} prebuilds`).toEqual([...(EXPECTED_PREBUILDS[b] ?? [])].sort());
    }
  });

  it('every Linux prebuild in a tarball needs glibc <= 2.17 (or is musl) and nothing beyond the C library', () => {
    const seen = [];
    for (const b of BACKENDS) {
      const dir = tempDir(`unpack-${b}`);
      run('tar', ['xzf', tarballs[b], '-C', dir]);
      for (const f of tarList(tarballs[b]).filter((f) => /^prebuilds\/linux-/.test(f))) {
        const file = join(dir, 'package', f);
        const musl = f.endsWith('.musl.node');
        expect(elfProblems(file, musl ? 'musl' : 'glibc'), f).toEqual([]);
        const info = elfInfo(file);
        if (!musl) expect(compareVersions(info.maxGlibc, GLIBC_MAX), `${f} needs glibc ${info.maxGlibc}`).toBeLessThanOrEqual(0);
        seen.push(`${b} ${f} glibc ${info.maxGlibc ?? '-'} needs ${info.needed.join(',')}`);
      }
    }
    // linux-epoll and poll-fallback: x64, arm64, armv7, each glibc and musl.
    expect(seen.length).toBe(12);
  });

  it('no backend declares an install script or lets npm compile by itself (gypfile false)', () => {
    for (const b of BACKENDS) {
      const m = tarManifest(tarballs[b]);
      expect(m.scripts ?? {}, `${b} scripts`).not.toHaveProperty('install');
      expect(m.scripts ?? {}, `${b} scripts`).not.toHaveProperty('preinstall');
      expect(m.scripts ?? {}, `${b} scripts`).not.toHaveProperty('postinstall');
      expect(m.gypfile, `${b} gypfile`).toBe(false);
    }
  });

  it('packed manifests: workspace: ranges rewritten, os on each platform backend, prebuilds only for an os it serves', () => {
    for (const p of PUBLISHED) {
      const m = tarManifest(tarballs[p]);
      const ranges = { ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies };
      for (const [dep, range] of Object.entries(ranges)) {
        expect(range, `${p} → ${dep}`).not.toMatch(/^workspace:/);
        if (dep.startsWith('@async-io/')) expect(range, `${p} → ${dep} (fixed group)`).toBe(m.version);
      }
      expect(m.devDependencies ?? {}, `${p} devDependencies`).not.toHaveProperty('@async-io/conformance', expect.stringMatching(/^workspace:/));
      if (PLATFORM_BACKENDS[p]) expect(m.os, `${p} os`).toEqual(PLATFORM_BACKENDS[p]);
      else expect(m.os, `${p} os`).toBeUndefined();
      for (const f of tarList(tarballs[p]).filter((f) => f.startsWith('prebuilds/'))) {
        const platform = f.split('/')[1].split('-')[0];
        if (m.os) expect(m.os, `${p} ships ${f}`).toContain(platform);
      }
    }
    const facade = tarManifest(tarballs.reactor);
    expect(Object.keys(facade.optionalDependencies).sort()).toEqual(Object.keys(PLATFORM_BACKENDS).map((b) => `@async-io/${b}`).sort());
    expect(facade.dependencies).toHaveProperty(`@async-io/${FALLBACK}`);
    expect(facade.bin).toEqual({ 'async-io': 'dist/cli.js' });
  });
});

describe('npm install @async-io/reactor', () => {
  let p;
  let installOutput;
  beforeAll(() => {
    p = project('npm-facade', registry);
    installOutput = run('npm', ['install', '@async-io/reactor'], { cwd: p.dir, env: p.env });
  }, 300_000);

  it('prints no warning about install scripts and compiles nothing (npm 11)', () => {
    // The harness's own .npmrc carries pnpm's store-dir/cache-dir, which npm calls unknown: not ours.
    const out = (installOutput.stdout + installOutput.stderr).split('\n').filter((l) => !/Unknown user config "(store|cache)-dir"/.test(l)).join('\n');
    expect(out).not.toMatch(/install-scripts|allowScripts|gyp info|node-gyp/);
    expect(out).not.toMatch(/npm warn/i);
    expectNoBuildDirs(p);
  });

  it(`installs only the backends that serve Linux (${FACADE_ON_LINUX.join(', ')})`, () => {
    expect(installedScope(p.dir)).toEqual(FACADE_ON_LINUX);
  });

  it('reactorFd() is a number from the epoll prebuild; ASYNC_IO_BACKEND=poll gives null', () => {
    const epoll = fdProbe(p);
    expect(epoll).toMatchObject({ name: 'epoll', prebuilt: true });
    expect(typeof epoll.fd).toBe('number');
    expect(epoll.file).toMatch(/prebuilds\/linux-x64\/@async-io\+linux-epoll\.node$/);
    expect(fdProbe(p, { ASYNC_IO_BACKEND: 'poll' })).toMatchObject({ name: 'poll', fd: null, prebuilt: true });
    expectNoBuildDirs(p);
  });

  it('npx @async-io/reactor doctor names the prebuild it loaded', () => {
    const { stdout } = run('npx', ['@async-io/reactor', 'doctor'], { cwd: p.dir, env: p.env });
    expect(stdout).toMatch(/chosen\s+epoll/);
    expect(stdout).toMatch(/file\s+\S*node_modules\/@async-io\/linux-epoll\/prebuilds\/linux-x64\/@async-io\+linux-epoll\.node \(prebuilt\)/);
  });

  it('CommonJS and ESM consumers run, and share one reactor', () => {
    writeFileSync(join(p.dir, 'consumer.cjs'), `
const { Async, pipe, write, read, reactorFd } = require('@async-io/reactor');
const [r, w] = pipe();
const a = new Async(r, { ownsFd: true });
write(w, Buffer.from('cjs'));
const buf = Buffer.alloc(8);
a.readWith(() => read(r, buf)).then((n) => { console.log(buf.subarray(0, n).toString(), typeof reactorFd()); a.close(); });
`);
    writeFileSync(join(p.dir, 'consumer.mjs'), `
import { createRequire } from 'node:module';
import { Async, pipe, write, read, reactorFd, Reactor } from '@async-io/reactor';
import { Poller } from '@async-io/linux-epoll';
const cjs = createRequire(import.meta.url)('@async-io/reactor');
const [r, w] = pipe();
const a = new Async(r, { ownsFd: true });
write(w, Buffer.from('esm'));
const buf = Buffer.alloc(8);
const n = await a.readWith(() => read(r, buf));
a.close();
console.log(buf.subarray(0, n).toString(), cjs.Reactor.get() === Reactor.get(), cjs.reactorFd() === reactorFd(), typeof Poller);
`);
    expect(run(process.execPath, ['consumer.cjs'], { cwd: p.dir, env: p.env }).stdout.trim()).toBe('cjs number');
    expect(run(process.execPath, ['consumer.mjs'], { cwd: p.dir, env: p.env }).stdout.trim()).toBe('esm true true function');
  });

  it('a TypeScript consumer compiles with moduleResolution node16 (and runs) and bundler', () => {
    run('npm', ['install', '--no-save', '@types/node@20'], { cwd: p.dir, env: p.env });
    const src = `
import { reactorFd, backendInfo, Async, pipe, type BackendName, type PollEvent } from '@async-io/reactor';
import { Poller, Events } from '@async-io/linux-epoll';
const fd: number | null = reactorFd();
// @ts-expect-error reactorFd() is number | null: a wrong type must not compile
const wrong: string = reactorFd();
const name: BackendName = backendInfo().name;
const poller = new Poller();
const events = new Events(4);
const [r] = pipe();
const a: Async = new Async(r, { ownsFd: true });
const first: PollEvent | undefined = events.length ? events.at(0) : undefined;
poller.close(); a.close();
console.log(JSON.stringify({ fd: typeof fd, name, wrong: typeof wrong, first: first ?? null }));
`;
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    for (const [mode, options] of [
      ['node16', { module: 'node16', moduleResolution: 'node16', outDir: 'out-node16' }],
      ['bundler', { module: 'esnext', moduleResolution: 'bundler', noEmit: true }],
    ]) {
      const dir = join(p.dir, `ts-${mode}`);
      mkdirSync(dir, { recursive: true });
      // The same source as ESM (.mts) and as CommonJS (.cts) under node16.
      writeFileSync(join(dir, 'index.mts'), src);
      writeFileSync(join(dir, 'index.cts'), src);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'es2022', strict: true, types: ['node'], skipLibCheck: false, ...options },
        include: ['*.mts', '*.cts'],
      }, null, 2));
      const r = run(tsc, ['-p', dir], { cwd: p.dir, env: p.env, allowFail: true });
      expect(r.status, `tsc (${mode}):\n${r.stdout}${r.stderr}`).toBe(0);
    }
    for (const out of ['index.mjs', 'index.cjs']) {
      const { stdout } = run(process.execPath, [join(p.dir, 'ts-node16', 'out-node16', out)], { cwd: p.dir, env: p.env });
      expect(JSON.parse(stdout)).toEqual({ fd: 'number', name: 'epoll', wrong: 'number', first: null });
    }
  });
});

describe('pnpm add @async-io/reactor (pnpm 10 defaults: no dependency build scripts run)', () => {
  let p;
  let installOutput;
  beforeAll(() => {
    p = project('pnpm-facade', registry);
    installOutput = run('pnpm', ['add', '@async-io/reactor'], { cwd: p.dir, env: p.env });
  }, 300_000);

  it('prints no warning (no "Ignored build scripts": nothing to build) and compiles nothing', () => {
    const out = installOutput.stdout + installOutput.stderr;
    expect(out).not.toMatch(/Ignored build scripts|approve-builds|WARN/);
    const store = join(p.dir, 'node_modules', '.pnpm');
    for (const d of readdirSync(store).filter((d) => d.startsWith('@async-io+'))) {
      const name = d.replace(/^@async-io\+/, '').replace(/@.*$/, '');
      expect(existsSync(join(store, d, 'node_modules', '@async-io', name, 'build')), `${name} compiled`).toBe(false);
    }
  });

  it(`installs only the backends that serve Linux (${FACADE_ON_LINUX.join(', ')})`, () => {
    expect(installedScope(p.dir)).toEqual(FACADE_ON_LINUX);
  });

  it('reactorFd() is a number from the prebuild; ASYNC_IO_BACKEND=poll gives null', () => {
    const epoll = fdProbe(p);
    expect(epoll).toMatchObject({ name: 'epoll', prebuilt: true });
    expect(typeof epoll.fd).toBe('number');
    expect(fdProbe(p, { ASYNC_IO_BACKEND: 'poll' })).toMatchObject({ name: 'poll', fd: null, prebuilt: true });
  });

  it('pnpm exec async-io doctor names the prebuild it loaded', () => {
    const { stdout } = run('pnpm', ['exec', 'async-io', 'doctor'], { cwd: p.dir, env: p.env });
    expect(stdout).toMatch(/chosen\s+epoll/);
    expect(stdout).toMatch(/file\s+\S*linux-epoll\/prebuilds\/linux-x64\/@async-io\+linux-epoll\.node \(prebuilt\)/);
  });
});

describe('npm install @async-io/linux-epoll alone', () => {
  it('its Poller works with no facade installed, from the prebuild', () => {
    const p = project('npm-epoll', registry);
    run('npm', ['install', '@async-io/linux-epoll'], { cwd: p.dir, env: p.env });
    expect(installedScope(p.dir)).toEqual(['backend-core', 'linux-epoll']);
    const out = nodeIn(p, POLLER_PROBE).stdout;
    expect(JSON.parse(out)).toMatchObject({ n: 1, key: 7, readable: true, backend: 'epoll', prebuilt: true });
    expectNoBuildDirs(p);
  });

  it('with no compiler on PATH (no cc, c++, gcc, make, python3) the prebuild loads and nothing compiles', () => {
    const p = project('npm-epoll-nocc', registry);
    const bin = noCompilerPath();
    const env = { ...p.env, PATH: bin };
    const which = run('/bin/sh', ['-c', 'for t in cc c++ gcc make python3 python; do command -v $t; done; true'], { cwd: p.dir, env });
    expect(which.stdout.trim(), 'the PATH still holds a toolchain').toBe('');
    run(join(bin, 'npm'), ['install', '@async-io/linux-epoll'], { cwd: p.dir, env });
    expectNoBuildDirs(p);
    const out = run(join(bin, 'node'), ['-e', POLLER_PROBE], { cwd: p.dir, env }).stdout;
    expect(JSON.parse(out)).toMatchObject({ n: 1, key: 7, backend: 'epoll', prebuilt: true });
  });
});
describe('a platform backend on the wrong OS', () => {
  it(`npm refuses the backends that do not serve Linux (${NOT_FOR_LINUX.join(', ')}) with EBADPLATFORM`, () => {
    const p = project('npm-wrong-os', registry);
    for (const name of NOT_FOR_LINUX.map((b) => `@async-io/${b}`)) {
      const r = run('npm', ['install', name], { cwd: p.dir, env: p.env, allowFail: true });
      expect(r.status, `${name} installed on linux`).not.toBe(0);
      expect(r.stderr).toContain('EBADPLATFORM');
    }
    expect(installedScope(p.dir)).toEqual([]);
  });
});

const POLLER_PROBE = `
const { Poller, Events, pipe, write } = require('@async-io/linux-epoll');
const { binary } = require('@async-io/linux-epoll/internal'); // which file loaded: internal, for this check only
const poller = new Poller(); const [r, w] = pipe();
poller.add(r, 7, { readable: true }, 'level'); write(w, Buffer.from('x'));
const events = new Events(8); const n = poller.wait(events, 1000); const e = events.at(0);
console.log(JSON.stringify({ n, key: e.key, readable: e.readable, backend: poller.backend, prebuilt: binary.prebuilt, file: binary.file }));
poller.close();`;

describe('npm install --omit=optional @async-io/reactor', () => {
  it('the facade falls back to poll and says so with ASYNC_IO_FALLBACK_TO_POLL', () => {
    const p = project('npm-omit-optional', registry);
    run('npm', ['install', '--omit=optional', '@async-io/reactor'], { cwd: p.dir, env: p.env });
    expect(installedScope(p.dir)).toEqual(['backend-core', FALLBACK, 'reactor'].sort());
    const r = nodeIn(p, `process.on('warning', (w) => console.log('WARNING', w.code));
const { reactorFd, backendInfo } = require('@async-io/reactor');
console.log(JSON.stringify({ fd: reactorFd(), name: backendInfo().name }));`);
    expect(r.stdout).toContain('WARNING ASYNC_IO_FALLBACK_TO_POLL');
    expect(JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{')))).toEqual({ fd: null, name: 'poll' });
  });
});

describe('bun add @async-io/reactor', () => {
  it('prints no "Blocked postinstall" and loads the prebuild', () => {
    const bun = bunBinary();
    const p = project('bun-facade', registry);
    // Bun reads the registry from bunfig/npmrc; the project's .npmrc names the local one.
    const r = run(bun, ['add', '@async-io/reactor'], { cwd: p.dir, env: { ...p.env, BUN_CONFIG_REGISTRY: registry.url, NPM_CONFIG_REGISTRY: registry.url } });
    expect(r.stdout + r.stderr).not.toMatch(/Blocked|postinstall|untrusted/i);
    expectNoBuildDirs(p);
    expect(fdProbe(p)).toMatchObject({ name: 'epoll', prebuilt: true });
  });
});

describe('a platform without a prebuild', () => {
  it("the loader's error says how to compile from the shipped sources, and those steps work", () => {
    const p = project('npm-from-source', registry);
    run('npm', ['install', '@async-io/linux-epoll'], { cwd: p.dir, env: p.env });
    const pkg = join(p.dir, 'node_modules', '@async-io', 'linux-epoll');
    rmSync(join(pkg, 'prebuilds'), { recursive: true, force: true });
    const failed = run(process.execPath, ['-e', POLLER_PROBE], { cwd: p.dir, env: p.env, allowFail: true });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/^Error: No native build was found/m);
    const step = /^\s+(cd .* npx --yes node-gyp rebuild)$/m.exec(failed.stderr)?.[1];
    expect(step, failed.stderr).toBeTruthy();
    // The steps as printed (node-gyp offline: this Node's own headers).
    run('/bin/sh', ['-c', step], { cwd: p.dir, env: { ...p.env, npm_config_nodedir: join(process.execPath, '..', '..') }, timeout: 600_000 });
    expect(JSON.parse(run(process.execPath, ['-e', POLLER_PROBE], { cwd: p.dir, env: p.env }).stdout)).toMatchObject({ n: 1, key: 7, prebuilt: false });
  }, 600_000);
});

describe('release flow: changeset version, then changeset publish to the local registry', () => {
  it('bumps the fixed group together and publishes tarballs that contain the prebuilds', () => {
    const copy = tempDir('release');
    // A copy of the repo as CI has it after build + prebuild: sources, dist/, prebuilds/.
    cpSync(root, copy, {
      recursive: true,
      filter: (src) => !/[\\/](node_modules|build|\.git|\.turbo|\.test-results)$/.test(src),
    });
    writeFileSync(join(copy, '.npmrc'), registry.npmrc);
    writeFileSync(join(copy, '.changeset', 'e2e-release.md'), `---\n"@async-io/reactor": patch\n---\n\nEnd-to-end release check.\n`);
    const git = (...args) => run('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@localhost', ...args], { cwd: copy });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'release base');
    const env = cleanEnv({ npm_config_registry: registry.url, npm_config_userconfig: join(copy, '.npmrc'), CI: 'true' });
    // pnpm publish resolves workspace: ranges from the installed workspace; the store has it all.
    run('pnpm', ['install', '--prefer-offline', '--ignore-scripts', '--no-frozen-lockfile', `--registry=${registry.url}`], { cwd: copy, env });
    const changeset = join(root, 'node_modules', '.bin', 'changeset');
    const before = manifest('reactor').version;
    run(changeset, ['version'], { cwd: copy, env });
    const versions = PUBLISHED.map((p) => JSON.parse(readText(join(copy, 'packages', p, 'package.json'))).version);
    expect(new Set(versions).size, `fixed group versions: ${versions}`).toBe(1);
    const version = versions[0];
    expect(version).not.toBe(before);
    for (const p of PUBLISHED) expect(existsSync(join(copy, 'packages', p, 'CHANGELOG.md')), `${p}/CHANGELOG.md`).toBe(true);
    run(changeset, ['publish'], { cwd: copy, env });
    // What the registry now serves for the new version.
    const dl = tempDir('release-dl');
    for (const p of PUBLISHED) {
      const name = `@async-io/${p}`;
      const { stdout } = run('npm', ['pack', `${name}@${version}`, '--pack-destination', dl, '--json'], { cwd: dl, env });
      const tgz = join(dl, JSON.parse(stdout)[0].filename);
      const m = tarManifest(tgz);
      expect(m.version).toBe(version);
      for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.optionalDependencies })) {
        if (dep.startsWith('@async-io/')) expect(range, `${p} → ${dep}`).toBe(version);
      }
      if (PLATFORM_BACKENDS[p]) expect(m.os).toEqual(PLATFORM_BACKENDS[p]);
      if (EXPECTED_PREBUILDS[p]) expect(tarList(tgz)).toEqual(expect.arrayContaining(EXPECTED_PREBUILDS[p]));
    }
  });
});

function readText(f) {
  return readFileSync(f, 'utf8');
}
