// `doctor --selftest`, the battery users run on their own machine and paste
// into an issue, run here as they would run it: the built CLI in a child,
// with this project's backend (the emulations' preload comes with the
// environment), then again while poll() answers POLLNVAL for character
// devices as macOS does (test/interpose/macos_poll.c) and, on the kqueue
// emulation, kqueue refuses them (KQ_SHIM_QUIRKS=device-einval). Every check
// must pass. And a check must be able to fail: with shutdown(SHUT_WR)
// broken into SHUT_RDWR by a test-only preload (test/interpose/shutdown_both.c),
// the half-close check reports FAILED and the CLI exits 1. And a check this
// machine cannot run (no ptys: test/interpose/no_pty.c; no mkfifo(1)) is
// skipped with its reason, never ok.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildResult, EXPECTED_BACKEND, EXPECTED_DRIVER } from './helpers.js';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const CHECKS = ['/dev/null', 'pty', 'named FIFO', 'socket half-close', 'shared Poller'];
const dir = mkdtempSync(join(tmpdir(), 'async-io-doctor-test-'));
const preload = (name: string) => join(dir, `${name}.so`);

interface Report {
  platform: string;
  backend: string;
  driver: string;
  ok: boolean;
  checks: { name: string; status: string; detail: string; ms: number }[];
}

function doctor(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'doctor', ...args], { env: { ...process.env, ...env }, timeout: 120_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: number; signal?: NodeJS.Signals }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}

/** Each check as `name: status (detail)`, so that a failure names what failed. */
const outcomes = (r: Report) => Object.fromEntries(r.checks.map((c) => [c.name, c.status === 'ok' ? 'ok' : `${c.status}: ${c.detail}`]));
const allOk = Object.fromEntries(CHECKS.map((c) => [c, 'ok']));

beforeAll(() => {
  if (process.platform !== 'linux') return;
  for (const name of ['macos_poll', 'shutdown_both', 'no_pty']) {
    execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', preload(name), join(__dirname, 'interpose', `${name}.c`), '-ldl']);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`doctor --selftest on ${EXPECTED_BACKEND}`, () => {
  it('passes every check, reports where it ran, and exits 0', async () => {
    const r = await doctor(['--selftest', '--json']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    expect(outcomes(report)).toEqual(allOk);
    expect(report).toMatchObject({ platform: process.platform, backend: EXPECTED_BACKEND, driver: EXPECTED_DRIVER, ok: true });
    for (const c of report.checks) expect(c.ms).toBeGreaterThanOrEqual(0);
    expect(r.code).toBe(0);
  });

  it('prints a table to paste into an issue: one row per check, ok or FAILED', async () => {
    const r = await doctor(['--selftest']);
    expect(r.stdout).toContain(`- backend: ${EXPECTED_BACKEND}, driver: ${EXPECTED_DRIVER}`);
    for (const name of CHECKS) expect(r.stdout).toMatch(new RegExp(`^\\| ${name.replace('/', '\\/')} \\| ok \\| [\\d.]+ \\| .+ \\|$`, 'm'));
    expect(r.stdout).toContain('all checks passed');
    expect(r.code).toBe(0);
  });

  it('refuses an unknown option or a bad --timeout with its usage and exit code 2', async () => {
    for (const args of [['--selftest', '--verbose'], ['--selftest', '--timeout', '0'], ['--selftest', '--timeout'], ['--timeout', '100']]) {
      const r = await doctor(args);
      expect(r.stderr, args.join(' ')).toMatch(/^usage: async-io doctor/);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  describe.runIf(process.platform === 'linux')('with test-only preloads', () => {
    it('passes every check while poll() answers POLLNVAL for devices (macOS) and kqueue refuses them', async () => {
      const r = await doctor(['--selftest', '--json'], { LD_PRELOAD: preload('macos_poll'), KQ_SHIM_QUIRKS: 'device-einval' });
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as Report;
      expect(outcomes(report)).toEqual(allOk);
      expect(r.code).toBe(0);
    });

    it('reports a check this machine cannot run as skipped with its reason, never ok, and still exits 0', async () => {
      // No pseudo-terminals (posix_openpt() fails with ENOENT) and no mkfifo(1) on the PATH.
      const empty = join(dir, 'empty-path');
      mkdirSync(empty, { recursive: true });
      const r = await doctor(['--selftest', '--json'], { LD_PRELOAD: preload('no_pty'), PATH: empty });
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as Report;
      const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
      expect(byName.pty).toMatchObject({ status: 'skipped', detail: 'no pseudo-terminals here: posix_openpt: ENOENT' });
      expect(byName['named FIFO']).toMatchObject({ status: 'skipped', detail: 'mkfifo(1) could not make a FIFO: spawnSync mkfifo: ENOENT' });
      for (const name of ['/dev/null', 'socket half-close', 'shared Poller']) expect(byName[name]!.status, name).toBe('ok');
      expect(report.ok).toBe(true);
      expect(r.code).toBe(0);
      const text = await doctor(['--selftest'], { LD_PRELOAD: preload('no_pty'), PATH: empty });
      expect(text.stdout).toMatch(/^\| pty \| skipped \| [\d.]+ \| no pseudo-terminals here: posix_openpt: ENOENT \|$/m);
    });

    it('reports the half-close check FAILED, and exits 1, when shutdown(SHUT_WR) closes both directions', async () => {
      const r = await doctor(['--selftest', '--json', '--timeout', '5000'], { LD_PRELOAD: preload('shutdown_both') });
      const report = JSON.parse(r.stdout) as Report;
      const half = report.checks.find((c) => c.name === 'socket half-close')!;
      expect(half.status).toBe('failed');
      expect(half.detail).toMatch(/hangup|EOF|EPIPE|not "back"/);
      expect(report.ok).toBe(false);
      expect(r.code).toBe(1);
    });
  });
});
