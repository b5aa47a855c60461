/**
 * The readiness contract on every driver of the backend under test: a
 * resolved readable() means a read would not block (unless someone else
 * consumed it), and no priority event is lost, even on a file whose poll
 * reports a change only once.
 */
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BACKENDS } from '@async-io/backend-core';
import { describe, expect, it, type TestContext } from 'vitest';
import { EXPECTED_BACKEND, FIXTURES, runFixture } from './helpers.js';

const row = BACKENDS.find((b) => b.name === EXPECTED_BACKEND)!;
const DRIVERS = [...(row.hasFd ? ['nested'] : []), 'thread', 'external'] as const;
const WAITS = 20_000;

/** Why this machine refuses `unshare -m` (null: it does not). */
function unshareRefused(): string | null {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  return probe.status === 0 ? null : (probe.stderr || String(probe.error)).trim();
}

/** Runs the mountinfo fixture in a private mount namespace. */
function inMountNamespace(args: string[]): Promise<{ out: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['-m', '--propagation', 'private', process.execPath, join(FIXTURES, 'mountinfo.cjs'), ...args],
      { timeout: 60_000, killSignal: 'SIGKILL' },
      (_error, stdout, stderr) => resolve({ out: stdout, stderr }),
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

  it.runIf(process.platform === 'linux').for(['', ' made while no wait is pending'])(
    'priority() sees every change of /proc/self/mountinfo (a file whose poll reports once)%s',
    { timeout: 90_000 },
    async (timing: string, ctx: TestContext) => {
      const refused = unshareRefused();
      if (refused !== null) {
        console.log(`skipped: unshare -m refused here (${refused})`);
        return ctx.skip(`unshare -m refused: ${refused}`);
      }
      const { out, stderr } = await inMountNamespace(timing === '' ? [driver] : [driver, 'late']);
      expect(stderr).toBe('');
      const result = JSON.parse(out);
      // kqueue's priority filter (EVFILT_EXCEPT) serves sockets only: a coded refusal.
      if (EXPECTED_BACKEND === 'kqueue') return expect(result.error).toMatch(/^(EINVAL|ENOTSUP): /);
      // The event-ports emulation re-arms through epoll_ctl(MOD), which polls
      // the file and then polls it again to report it: a change made while
      // disarmed shows only to the first of the two, so only the change that
      // came while armed arrives. illumos polls once, at port_associate().
      const emulatedRearm = timing !== '' && process.env.ASYNC_IO_EMULATE === 'event-ports';
      expect(result).toEqual({ driver, backend: EXPECTED_BACKEND, changes: emulatedRearm ? 1 : 3 });
    },
  );
});
