/**
 * Which of a backend's mechanisms this host can test, from the one table:
 * the real kernel's wherever the table says the backend serves this
 * platform, and its emulation (the package's test/emulated.cjs: the real
 * mechanism file compiled against a kernel shim on epoll) only on Linux.
 *
 * @example
 * for (const t of backendTargets('kqueue', join(__dirname, '..'))) describeConformance(t);
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendRow, type BackendName, servesPlatform } from '@async-io/backend-core';
import { describe, it } from 'vitest';
import { describeConformance } from './index.js';
import { describeNativeHarness } from './native.js';
import { describeSeam } from './seam.js';

export interface BackendTarget {
  kind: 'real' | 'emulated';
  /** A CommonJS module exporting the backend with its addon (`/internal`, or the emulation). */
  modulePath: string;
  label: string;
}

/** The package's `/internal` entry, read from its manifest: a package cannot be resolved by name from its own directory unless it is a dependency there. */
function internalModule(packageDir: string): string {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const entry = manifest.exports['./internal'];
  return join(packageDir, typeof entry === 'string' ? entry : (entry.require ?? entry.default));
}

export function backendTargets(name: BackendName, packageDir: string, platform: string = process.platform): BackendTarget[] {
  const row = backendRow(name)!;
  const out: BackendTarget[] = [];
  if (servesPlatform(name, platform)) {
    out.push({ kind: 'real', modulePath: internalModule(packageDir), label: `${name} (${platform} kernel)` });
  }
  const emulation = join(packageDir, 'test', 'emulated.cjs');
  if (platform === 'linux' && !servesPlatform(name, platform) && existsSync(emulation)) {
    out.push({ kind: 'emulated', modulePath: emulation, label: `${name} (emulated on Linux)` });
  }
  return out;
}

/** A visible skip where this host has neither the backend's kernel nor its emulation. */
export function describeUnserved(name: BackendName, targets: readonly BackendTarget[], platform: string = process.platform): void {
  if (targets.length > 0) return;
  const row = backendRow(name)!;
  describe(`${name} on ${platform}`, () => {
    it('runs its suites on its own kernels, or emulated on Linux', (ctx) => {
      ctx.skip(`${name} serves ${row.platforms.join(', ')} and is emulated only on Linux; this host is ${platform}`);
    });
  });
}

/**
 * A backend package's conformance run: on each target of backendTargets(),
 * the seam check and the conformance suite, then the package's C harness
 * (test/native: the C contract suite and the mechanism's own checks) where
 * it is built (`harnessOn`: 'emulated' for a harness made against the kernel
 * shim); a visible skip where the host has no target.
 *
 * @example describeBackendPackage({ name: 'epoll', packageDir: join(__dirname, '..'), harness: 'C contract suite: epoll.c' });
 */
export function describeBackendPackage(options: { name: BackendName; packageDir: string; harness: string; harnessOn?: BackendTarget['kind'] }): void {
  const targets = backendTargets(options.name, options.packageDir);
  for (const t of targets) {
    describeSeam(t);
    describeConformance(t);
    if (options.harnessOn === undefined || options.harnessOn === t.kind) {
      describeNativeHarness({ dir: join(options.packageDir, 'test', 'native'), label: options.harness });
    }
  }
  describeUnserved(options.name, targets);
}
