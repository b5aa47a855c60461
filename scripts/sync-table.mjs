#!/usr/bin/env node
// Writes what lists the backends but cannot import backend-core's table
// (packages/backend-core/lib/table.ts) from the table itself:
//
//   tsconfig.json                      the solution's project references
//   packages/reactor/package.json      the fallback as a dependency, the others optional
//   .changeset/config.json             the fixed release group
//
//   node scripts/sync-table.mjs           # rewrite them (after `pnpm build`)
//   node scripts/sync-table.mjs --check   # exit 1 naming the files that drifted
//
// backend-core's one-table test runs the check, and also holds the workflows,
// the e2e suite, the backends' manifests and the README against the table.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..');
const SCOPE = '@async-io/';
const CORE = `${SCOPE}backend-core`;
const FACADE = `${SCOPE}reactor`;

/** The table as backend-core's build has it. */
export function loadTable() {
  const file = join(root, 'packages', 'backend-core', 'dist', 'table.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` first`);
  return createRequire(import.meta.url)(file);
}

/** `@async-io/linux-epoll` -> `linux-epoll`, its folder under packages/. */
export function packageDir(pkg) {
  if (!pkg.startsWith(SCOPE)) throw new Error(`${pkg} is not in the ${SCOPE} scope`);
  return pkg.slice(SCOPE.length);
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;
const read = (path) => readFileSync(join(root, path), 'utf8');

function tsconfig(table) {
  const paths = [CORE, ...table.BACKENDS.map((b) => b.package), FACADE].map((p) => `packages/${packageDir(p)}`);
  return [
    '{',
    '  // Solution file: `tsc -b` builds every package in dependency order.',
    '  // Written from packages/backend-core/lib/table.ts by scripts/sync-table.mjs.',
    '  "files": [],',
    '  "references": [',
    paths.map((p) => `    { "path": "${p}" }`).join(',\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

function facadeManifest(table) {
  const m = JSON.parse(read('packages/reactor/package.json'));
  const backends = new Set(table.BACKENDS.map((b) => b.package));
  const fallback = table.backendRow(table.FALLBACK_BACKEND).package;
  const keep = (deps) => Object.fromEntries(Object.entries(deps ?? {}).filter(([name]) => !backends.has(name)));
  m.dependencies = { ...keep(m.dependencies), [fallback]: 'workspace:*' };
  m.optionalDependencies = {
    ...keep(m.optionalDependencies),
    ...Object.fromEntries(table.BACKENDS.filter((b) => b.package !== fallback).map((b) => [b.package, 'workspace:*'])),
  };
  return json(m);
}

function changesetConfig(table) {
  const c = JSON.parse(read('.changeset/config.json'));
  c.fixed = [[FACADE, ...table.BACKENDS.map((b) => b.package), CORE]];
  return json(c);
}

/** Each generated file, as the table says it must read. */
export function generated(table = loadTable()) {
  return [
    { path: 'tsconfig.json', text: tsconfig(table) },
    { path: 'packages/reactor/package.json', text: facadeManifest(table) },
    { path: '.changeset/config.json', text: changesetConfig(table) },
  ];
}

/** The generated files whose content differs from the table's. */
export function drifted(table = loadTable()) {
  return generated(table)
    .filter(({ path, text }) => read(path) !== text)
    .map(({ path }) => path);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--check')) {
    const stale = drifted();
    if (stale.length) {
      console.error(`stale (run node scripts/sync-table.mjs): ${stale.join(', ')}`);
      process.exit(1);
    }
  } else {
    for (const { path, text } of generated()) {
      if (read(path) === text) continue;
      writeFileSync(join(root, path), text);
      console.log(`wrote ${path}`);
    }
  }
}
