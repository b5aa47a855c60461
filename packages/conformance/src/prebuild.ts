/**
 * Proves that a backend's prebuild loads with no build/ directory: copies the
 * package's publishable files to a temp dir, runs `prebuildify --napi --strip`
 * there, deletes build/, and loads it in a fresh process.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

export function describePrebuild(packageDir: string): void {
  describe('prebuild', () => {
    it(`prebuildify produces prebuilds/${process.platform}-${process.arch}/*.node and node-gyp-build loads it without build/`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'async-io-prebuild-'));
      try {
        for (const entry of ['package.json', 'binding.gyp', 'src', 'dist']) {
          cpSync(join(packageDir, entry), join(dir, entry), { recursive: true });
        }
        symlinkSync(join(packageDir, 'node_modules'), join(dir, 'node_modules'));
        const prebuildify = require.resolve('prebuildify/bin.js', { paths: [packageDir] });
        const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [packageDir] });
        execFileSync(process.execPath, [prebuildify, '--napi', '--strip'], {
          cwd: dir,
          stdio: 'pipe',
          env: { ...process.env, PREBUILD_NODE_GYP: nodeGyp },
        });
        const target = join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
        const files = readdirSync(target).filter((f) => f.endsWith('.node'));
        expect(files.length).toBe(1);
        rmSync(join(dir, 'build'), { recursive: true, force: true });
        expect(existsSync(join(dir, 'build'))).toBe(false);
        const out = execFileSync(
          process.execPath,
          // The package's /internal module says which file it loaded.
          ['-e', `const m = require(${JSON.stringify(join(dir, 'dist', 'internal.js'))}); const p = new m.Poller(); console.log(JSON.stringify({ ...m.binary, backend: p.backend })); p.close();`],
          { encoding: 'utf8' },
        );
        const loaded = JSON.parse(out) as { file: string; prebuilt: boolean };
        expect(loaded.prebuilt).toBe(true);
        expect(loaded.file).toBe(join(target, files[0]!));
        expect(existsSync(join(dir, 'build'))).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
