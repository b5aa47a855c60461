import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { backendRow, type BackendName, type DriverName, Events, preferredBackend } from '@async-io/backend-core';
import type { BackendModule } from '@async-io/backend-core/internal';
import { fdCount } from '@async-io/conformance/fds';

export const FIXTURES = join(__dirname, 'fixtures');

/**
 * The backend this run's facade selects, from the one table: the one
 * ASYNC_IO_BACKEND forces (each project of vitest.config.mjs sets it), else
 * the platform's own.
 */
export const EXPECTED_BACKEND = (process.env.ASYNC_IO_BACKEND || preferredBackend(process.platform)) as BackendName;
/** Its table row: `hasFd` (a kernel poller fd to nest, watch, misuse), capabilities. */
export const EXPECTED_ROW = backendRow(EXPECTED_BACKEND)!;

/**
 * The driver `'auto'` gives on Node, decided as the facade's start-up probe
 * decides it and asked again here on our own: a backend without a kernel
 * poller fd gets `thread`; one with an fd nests where a second poller of the
 * same kind sees the first one's fd turn readable after a notify(), and gets
 * `thread` where it does not (kqueue in kqueue on macOS).
 */
export function probeDriver(): DriverName {
  if (!EXPECTED_ROW.hasFd) return 'thread';
  // The backend as the facade loads it (an emulation's preload maps this too).
  const { Poller } = require(`${EXPECTED_ROW.package}/internal`) as BackendModule;
  const inner = new Poller();
  const outer = new Poller();
  try {
    outer.add(inner.fd!, 0, { readable: true }, 'level');
    inner.notify();
    return outer.wait(new Events(2), 0) > 0 ? 'nested' : 'thread';
  } finally {
    outer.close();
    inner.close();
  }
}
export const EXPECTED_DRIVER: DriverName = probeDriver();

/** How many fds this process has open (fstat over the table: no /proc, every OS). */
export function openFds(): number {
  return fdCount();
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
