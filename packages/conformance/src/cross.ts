/**
 * Compiles a backend's real sources for other OSes with `zig cc` (macOS
 * headers ship with it), warnings as errors, linked like a real addon
 * (`-shared`, `-undefined dynamic_lookup` on macOS), and checks the result.
 * Compile-only: nothing here runs the binaries.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(__dirname, '..', '..', '..', 'scripts', 'cross-prebuild.mjs');

interface CrossModule {
  zigPath(): string;
  crossBuild(o: { pkg: string; target: string; zig: string; outDir: string; strict: boolean; werror: boolean }): string;
}

export function describeCrossCompile(options: { pkg: string; targets: string[]; imports: string[] }): void {
  describe(`compile check: ${options.pkg} with zig cc, -Wall -Wextra -Werror`, () => {
    for (const target of options.targets) {
      it(`builds a ${target} .node from the real sources (${options.imports.join(', ')} linked)`, async () => {
        const cross = (await import(script)) as CrossModule;
        const out = mkdtempSync(join(tmpdir(), 'async-io-cross-'));
        try {
          const file = cross.crossBuild({ pkg: options.pkg, target, zig: cross.zigPath(), outDir: out, strict: true, werror: true });
          const bytes = readFileSync(file);
          // Mach-O 64 (0xfeedfacf little-endian) or ELF.
          const magic = bytes.readUInt32LE(0);
          expect(target.startsWith('darwin') ? magic === 0xfeedfacf : bytes.subarray(0, 4).toString('latin1') === '\x7fELF').toBe(true);
          // The mechanism really is in there, not the ENOSYS stub.
          for (const sym of options.imports) expect(bytes.includes(Buffer.from(sym))).toBe(true);
        } finally {
          rmSync(out, { recursive: true, force: true });
        }
      }, 180_000);
    }
  });
}
