#!/usr/bin/env node
// Checks (or with --fix, applies) .clang-format on every C file git knows:
//   node scripts/format-c.mjs          # clang-format --dry-run --Werror, for `pnpm lint`
//   node scripts/format-c.mjs --fix    # rewrite in place
// clang-format: $CLANG_FORMAT, else clang-format-19, else clang-format.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const fix = process.argv.includes('--fix');

function findClangFormat() {
  for (const name of [process.env.CLANG_FORMAT, 'clang-format-19', 'clang-format'].filter(Boolean)) {
    if (spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0) return name;
  }
  console.error('format-c: no clang-format (apt-get install -y clang-format-19, or set CLANG_FORMAT)');
  process.exit(1);
}

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.c', '*.h'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const clangFormat = findClangFormat();
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const r = spawnSync(clangFormat, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`format-c: ${fix ? 'clang-format failed' : 'C files differ from .clang-format; run node scripts/format-c.mjs --fix'}`);
  process.exit(1);
}
console.error(`format-c: ${files.length} C files ${fix ? 'formatted' : 'match .clang-format'} (${clangFormat})`);
