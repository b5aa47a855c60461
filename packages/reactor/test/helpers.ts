import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, 'fixtures');
export const EXPECTED_BACKEND = process.env.ASYNC_IO_BACKEND || (process.platform === 'linux' ? 'epoll' : 'poll');

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a fixture script with node; resolves with its exit and output. */
export function runFixture(name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, timeout = 30_000): Promise<ChildResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(FIXTURES, name), ...args],
      { env: { ...process.env, ...env }, timeout, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number; signal?: NodeJS.Signals }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}
