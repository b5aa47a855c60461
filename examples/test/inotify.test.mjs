import { mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { startRecipe } from './helpers.mjs';

test('inotify records decode as files come and go, and the watch ends with its directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inotify-recipe-'));
  try {
    const watcher = startRecipe('inotify.mjs', [dir]);
    await watcher.waitFor(/^watching /m);
    writeFileSync(join(dir, 'a.txt'), 'hello');
    renameSync(join(dir, 'a.txt'), join(dir, 'b.txt'));
    mkdirSync(join(dir, 'sub'));
    unlinkSync(join(dir, 'b.txt'));
    rmdirSync(join(dir, 'sub'));
    rmdirSync(dir); // DELETE_SELF then IGNORED: the recipe stops by itself
    const { code, stdout, stderr } = await watcher.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toEqual([
      `watching ${dir}`,
      'create a.txt',
      'modify a.txt',
      'close_write a.txt',
      expect.stringMatching(/^moved_from a\.txt \(cookie \d+\)$/),
      expect.stringMatching(/^moved_to b\.txt \(cookie \d+\)$/),
      'create sub/',
      'delete b.txt',
      'delete sub/',
      'delete_self (watch 1)',
      'ignored (watch 1)',
    ]);
    // Both halves of the rename carry the same cookie.
    expect(lines[4].match(/cookie (\d+)/)[1]).toBe(lines[5].match(/cookie (\d+)/)[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the inotify recipe stops cleanly on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inotify-recipe-'));
  try {
    const watcher = startRecipe('inotify.mjs', [dir]);
    await watcher.waitFor(/^watching /m);
    const { code, signal, stderr } = await watcher.stop();
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory that does not exist is a coded error (ENOENT, inotify_add_watch)', async () => {
  const { code, stderr } = await startRecipe('inotify.mjs', ['/nonexistent/inotify-recipe']).exited;
  expect(code).toBe(1);
  expect(stderr).toMatch(/code: 'ENOENT'/);
  expect(stderr).toMatch(/syscall: 'inotify_add_watch'/);
});
