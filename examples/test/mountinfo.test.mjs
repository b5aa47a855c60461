import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { escapeRegExp, inNamespaceOf, namespaceRefusal, recipe, skipBecause, start } from './helpers.mjs';

const refusal = namespaceRefusal(['-m', '--propagation', 'private'], ['mount', 'umount']);

test('priority events on /proc/self/mountinfo report a tmpfs mounted and unmounted in a private mount namespace', async (ctx) => {
  if (refusal) return skipBecause(ctx, refusal);
  const dir = mkdtempSync(join(tmpdir(), 'mountinfo recipe-')); // a space: mountinfo escapes it as \040
  const watcher = start('unshare', ['-m', '--propagation', 'private', process.execPath, recipe('mountinfo.mjs')]);
  try {
    await watcher.waitFor(/^watching \d+ mounts$/m);
    // Mounted inside the recipe's namespace only: invisible to the rest of the machine.
    inNamespaceOf(watcher.child.pid, ['-m'], 'mount', ['-t', 'tmpfs', 'recipe-test', dir]);
    await watcher.waitFor(new RegExp(`^mounted ${escapeRegExp(dir)} \\(tmpfs recipe-test\\)$`, 'm'));
    inNamespaceOf(watcher.child.pid, ['-m'], 'umount', [dir]);
    await watcher.waitFor(/^unmounted .* \(tmpfs recipe-test\)$/m);
  } finally {
    const { code, stdout, stderr } = await watcher.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((l) => /^(un)?mounted /.test(l))).toEqual([`mounted ${dir} (tmpfs recipe-test)`, `unmounted ${dir} (tmpfs recipe-test)`]);
  }
});
