/**
 * One table, no second list: everything that names the backends is
 * generated from lib/table.ts (scripts/sync-table.mjs) or held against it
 * here. Adding, renaming or moving a backend in the table makes this fail
 * until the rest follows.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as table from '../lib/table.js';

const ROOT = join(__dirname, '..', '..', '..');
const { BACKENDS, BACKEND_NAMES, FALLBACK_BACKEND, servesPlatform } = table;
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const importRoot = (path: string) => import(pathToFileURL(join(ROOT, path)).href);

const dirOf = (pkg: string): string => pkg.replace(/^@async-io\//, '');
const DIRS = BACKENDS.map((b) => dirOf(b.package));
/** Every platform the table names: the sets of backends a workflow job may build or test. */
const PLATFORMS = [...new Set(BACKENDS.flatMap((b) => [...b.platforms]).concat('linux', 'darwin', 'freebsd', 'sunos'))];
const servedOn = (platform: string): string[] =>
  BACKENDS.filter((b) => servesPlatform(b.name, platform))
    .map((b) => dirOf(b.package))
    .sort();
const OTHER_PACKAGES = ['backend-core', 'reactor', 'conformance', 'test-e2e'];

describe('one table', () => {
  it('the files written from it are current (else run: node scripts/sync-table.mjs)', async () => {
    const { drifted } = await importRoot('scripts/sync-table.mjs');
    expect(drifted(table), 'stale: run node scripts/sync-table.mjs').toEqual([]);
  });

  it('each backend lives in packages/<name>, is named as the table says, and its published os is its platforms (none for the fallback)', () => {
    const backendDirs = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'binding.gyp')));
    expect(backendDirs.sort()).toEqual([...DIRS].sort());
    for (const row of BACKENDS) {
      const m = JSON.parse(read(`packages/${dirOf(row.package)}/package.json`));
      expect(m.name).toBe(row.package);
      expect(m.os, `${row.package}: os belongs in publishConfig`).toBeUndefined();
      expect(m.publishConfig?.os, `${row.package} publishConfig.os`).toEqual(row.name === FALLBACK_BACKEND ? undefined : [...row.platforms]);
    }
  });

  it('the e2e suite takes its backends from the table and lists none by hand', async () => {
    const harness = await importRoot('test-e2e/harness.mjs');
    expect(harness.BACKENDS).toEqual(DIRS);
    expect([...harness.PUBLISHED].sort()).toEqual(['backend-core', 'reactor', ...DIRS].sort());
    const names = new RegExp(`'(?:@async-io/)?(?:${DIRS.join('|')})'`, 'g');
    for (const file of ['test-e2e/harness.mjs', 'test-e2e/install.test.mjs']) {
      for (const list of read(file).match(/\[[^\][]*\]/g) ?? []) {
        expect((list.match(names) ?? []).length, `${file}: a hand-written list of backends: ${list}`).toBeLessThan(2);
      }
    }
  });

  it('each workflow step builds or tests exactly the backends of one platform', () => {
    const known = new Set([...DIRS, ...OTHER_PACKAGES]);
    const sets = PLATFORMS.map((p) => servedOn(p).join(' '));
    for (const file of readdirSync(join(ROOT, '.github', 'workflows'))) {
      const lines = read(`.github/workflows/${file}`).split('\n');
      lines.forEach((line, i) => {
        const named = [...line.matchAll(/@async-io\/([a-z0-9-]+)/g)].map((m) => m[1]!);
        for (const n of named) expect(known.has(n), `${file}:${i + 1} names an unknown package @async-io/${n}`).toBe(true);
        const backends = [...new Set(named.filter((n) => DIRS.includes(n)))].sort();
        if (backends.length === 0) return;
        expect(sets, `${file}:${i + 1} runs ${backends.join(', ')}: not the backends of any one platform`).toContain(backends.join(' '));
      });
    }
  });

  it('the release checks for every prebuild of every backend on each platform it publishes', () => {
    const byTarget = new Map<string, string[]>();
    for (const m of read('.github/workflows/release.yml').matchAll(/^\s*([a-z0-9-]+)\/prebuilds\/([a-z0-9]+)-([a-z0-9]+)\/@async-io\+([a-z0-9-]+)(\.musl)?\.node/gm)) {
      const [, dir, platform, arch, file, musl] = m;
      expect(file, m[0]).toBe(dir);
      const target = `${platform}-${arch}${musl ?? ''}`;
      byTarget.set(target, [...(byTarget.get(target) ?? []), dir!]);
    }
    expect(byTarget.size).toBeGreaterThan(0);
    for (const [target, dirs] of byTarget) expect(dirs.sort(), `release.yml prebuilds for ${target}`).toEqual(servedOn(target.split('-')[0]!));
  });

  it('the README and the packaging guide name every backend', () => {
    const readme = read('README.md');
    expect(readme).toContain(`ASYNC_IO_BACKEND=${BACKEND_NAMES.join('|')}`);
    const packaging = read('docs/packaging.md');
    for (const row of BACKENDS) {
      expect(readme, `README packages table: ${row.package}`).toContain(`[\`${row.package}\`](packages/${dirOf(row.package)})`);
      const line = packaging.split('\n').find((l) => l.startsWith(`| \`${row.package}\` |`));
      expect(line, `docs/packaging.md install table: ${row.package}`).toBeDefined();
      if (row.name !== FALLBACK_BACKEND) expect(line).toContain(`os: ${row.platforms.join(', ')}`);
    }
  });
});
