/**
 * Which JavaScript runtime loaded us, and whether it really has libuv.
 *
 * Node, Bun and Deno all load N-API addons, but only Node runs on libuv: Bun
 * aborts the process on `uv_poll_init` ("unsupported uv function"), and
 * Deno's `uv_poll` emulation delivers one callback per `uv_poll_start`. The
 * reactor's nested driver needs a real `uv_poll_t`, so it exists only on
 * Node; elsewhere the thread driver hands batches over with an N-API
 * thread-safe function and tears down in an env cleanup hook.
 */
export type RuntimeName = 'node' | 'bun' | 'deno';

export interface RuntimeInfo {
  name: RuntimeName;
  version: string;
  /** libuv is real here (and not forced off with `ASYNC_IO_NO_LIBUV=1`) */
  libuv: boolean;
}

declare const Deno: { version: { deno: string } } | undefined;

/**
 * The runtime of this process. `ASYNC_IO_NO_LIBUV=1` makes Node take the
 * drivers that Bun and Deno get (to test and measure them under Node).
 *
 * @example detectRuntime() // { name: 'bun', version: '1.4.5', libuv: false }
 */
export function detectRuntime(env: NodeJS.ProcessEnv = process.env): RuntimeInfo {
  const bun = (process.versions as Record<string, string | undefined>).bun;
  if (bun !== undefined) return { name: 'bun', version: bun, libuv: false };
  if (typeof Deno !== 'undefined') return { name: 'deno', version: Deno.version.deno, libuv: false };
  return { name: 'node', version: process.versions.node, libuv: env.ASYNC_IO_NO_LIBUV !== '1' };
}
