// The backends of the one table (packages/backend-core/lib/table.ts, compiled
// to dist/table.js by `pnpm build`), each with its package directory, for the
// scripts that build or check every backend.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** The compiled table module: BACKENDS, preferredBackend(), ... */
export function table() {
  const file = join(root, 'packages', 'backend-core', 'dist', 'table.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm build first`);
  return createRequire(import.meta.url)(file);
}

/**
 * Every table row with `dir`, its package directory (found by package name).
 *
 * @example backends().map((b) => b.dir) // ['/…/packages/linux-epoll', …]
 */
export function backends() {
  const dirs = new Map();
  for (const d of readdirSync(join(root, 'packages'))) {
    const manifest = join(root, 'packages', d, 'package.json');
    if (existsSync(manifest)) dirs.set(JSON.parse(readFileSync(manifest, 'utf8')).name, join(root, 'packages', d));
  }
  return table().BACKENDS.map((row) => {
    const dir = dirs.get(row.package);
    if (!dir) throw new Error(`backend table: no package ${row.package} under packages/`);
    return { ...row, dir };
  });
}
