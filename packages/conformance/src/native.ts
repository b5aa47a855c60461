/**
 * Runs a backend's plain-C harness (`make -C <dir> run`) and reports each of
 * its checks as a test, so that C-level checks count in the summary like any
 * other. A harness prints one line per check: `ok <name>` or `FAIL <name>`
 * (also accepted: `not ok`, `PASS`), and exits non-zero on any failure.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

export function describeNativeHarness(options: {
  dir: string;
  label: string;
  /** the command to run in `dir`; default `make -s run` */
  command?: string[];
  timeoutMs?: number;
}): void {
  const [cmd, ...args] = options.command ?? ['make', '-s', 'run'];
  const run = spawnSync(cmd!, args, {
    cwd: options.dir,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  const checks: { ok: boolean; name: string }[] = [];
  for (const line of `${run.stdout}`.split('\n')) {
    const m = /^\s*(ok|pass|not ok|fail)\b[:\s]*(?:\d+\s+-\s+)?(.*)$/i.exec(line);
    if (m) checks.push({ ok: /^(ok|pass)$/i.test(m[1]!), name: m[2]!.trim() || line.trim() });
  }
  describe(`native harness: ${options.label}`, () => {
    it('builds and exits 0 with at least one check', () => {
      expect(run.error, String(run.error)).toBeUndefined();
      expect(checks.length).toBeGreaterThan(0);
      expect(run.status, `${run.stdout}\n${run.stderr}`.slice(-4000)).toBe(0);
    });
    const seen = new Map<string, number>();
    for (const check of checks) {
      const n = (seen.get(check.name) ?? 0) + 1;
      seen.set(check.name, n);
      it(n === 1 ? check.name : `${check.name} (#${n})`, () => {
        expect(check.ok, check.name).toBe(true);
      });
    }
  });
}
