/**
 * The readiness contract on every driver of the backend under test: a
 * resolved readable() means a read would not block (unless someone else
 * consumed it), and no priority event is lost, even on a file whose poll
 * reports a change only once.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { BACKENDS } from '@async-io/backend-core';
import { describe, expect, it } from 'vitest';
import { EXPECTED_BACKEND, FIXTURES, runFixture } from './helpers.js';

const row = BACKENDS.find((b) => b.name === EXPECTED_BACKEND)!;
const DRIVERS = [...(row.hasFd ? ['nested'] : []), 'thread', 'external'] as const;
const WAITS = 20_000;

/** Runs a fixture in a private mount namespace; resolves null when unshare is refused here. */
function inMountNamespace(args: string[]): Promise<{ out: string; refused: string | null }> {
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['-m', '--propagation', 'private', process.execPath, join(FIXTURES, 'mountinfo.cjs'), ...args],
      { timeout: 60_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error && /unshare/.test(stderr) && stdout === '') resolve({ out: '', refused: stderr.trim() });
        else resolve({ out: stdout, refused: error && stdout === '' ? `${error.message} ${stderr}` : null });
      },
    );
  });
}

describe.each(DRIVERS)(`readiness on ${EXPECTED_BACKEND}, %s driver`, (driver) => {
  it(`readable() never resolves when a read would block (${WAITS} waits racing a writer Worker)`, async () => {
    const r = await runFixture('stale.cjs', [driver, String(WAITS)], {}, 120_000);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ driver, backend: EXPECTED_BACKEND, bytes: WAITS, spurious: 0 });
    expect(out.waits).toBeGreaterThan(WAITS / 2);
  }, 150_000);

  it.runIf(process.platform === 'linux')(
    'priority() sees every change of /proc/self/mountinfo (a file whose poll reports once)',
    async (ctx) => {
      const { out, refused } = await inMountNamespace([driver]);
      if (refused !== null) {
        console.log(`skipped: unshare -m refused here (${refused})`);
        return ctx.skip(`unshare -m refused: ${refused}`);
      }
      const result = JSON.parse(out);
      // kqueue's priority filter depends on the OS (and here on the emulation's profile).
      if (row.capabilities.priority !== true && /^ENOTSUP/.test(result.error ?? '')) return;
      expect(result).toEqual({ driver, backend: EXPECTED_BACKEND, changes: 3 });
    },
    90_000,
  );
});
