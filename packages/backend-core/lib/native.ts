/**
 * What a backend addon exports: backend-core's N-API glue, compiled into
 * every backend. Internal: reached through `@async-io/backend-core/internal`
 * and each backend's `/internal` subpath, never through a published index.
 * The conformance package's seam test holds every addon's real exports
 * against `NativeAddon` and `NativeConstants`.
 */
import type { SocketType } from './fd.js';
import type { PollMode } from './poller.js';
import { type BackendName, DRIVER_NAMES, type DriverName } from './table.js';

/** Opaque native handle to one reference on a poller. */
export type NativeHandle = { readonly __brand: 'async-io.poller' };

/** Opaque native handle to a reactor: a poller driven by the Node loop, one per environment. */
export type ReactorHandle = { readonly __brand: 'async-io.reactor' };

/**
 * Every number that crosses the seam, as the addon exports it from the C
 * definitions (backend-core's src/constants.c): TypeScript keeps no copy.
 */
export interface NativeConstants {
  /**
   * AIO_READABLE ... AIO_ERROR: interest bits and the flags word of each
   * event; AIO_GONE (delivered only, with `error`): the fd was closed or
   * reused behind the registration's back, which is gone.
   */
  readonly flags: { readonly readable: number; readonly writable: number; readonly priority: number; readonly hangup: number; readonly error: number; readonly gone: number };
  /**
   * AIO_CAP_* bits of `caps`. `queued`: events are queued with the readiness
   * of the moment they fired (event ports), so a consumer rechecks them.
   * `levelRearmed`: level registrations are kernel oneshots the front
   * re-arms per event (epoll), so one the kernel keeps after a close behind
   * our back fires at most once.
   */
  readonly caps: { readonly level: number; readonly edge: number; readonly priority: number; readonly queued: number; readonly levelRearmed: number };
  /** aio_mode_t */
  readonly modes: { readonly [M in PollMode]: number };
  /** `reactorCreate`'s driver argument and `reactorDriver`'s answer; `auto` probes. */
  readonly drivers: { readonly [D in DriverName | 'auto']: number };
  /** `reactorCreate`'s flags; `napiOnly`: the runtime has no libuv. */
  readonly reactorFlags: { readonly napiOnly: number };
  /**
   * Or'ed into `add`/`modify`'s mode. `owned`: the library owns the fd
   * (closes it itself, after delete), so its events skip the front's
   * identity check and an epoll level registration stays the kernel's own.
   */
  readonly registrationFlags: { readonly owned: number };
  /** The reactor batch callback's kinds: what its second argument is. */
  readonly batch: { readonly fresh: number; readonly captured: number; readonly failed: number; readonly driver: number };
  /** `socketpairOf`'s type. */
  readonly socketTypes: { readonly [T in SocketType]: number };
  /** `shutdown`'s direction. */
  readonly shutdown: { readonly read: number; readonly write: number; readonly both: number };
  /** AIO_NOTIFY_KEY, the key reserved for the backend's wake-up. */
  readonly notifyKey: number;
}

export interface NativeAddon {
  readonly name: BackendName;
  /** `constants.caps` bits this build supports on this OS (0: a stub build) */
  readonly caps: number;
  readonly constants: NativeConstants;
  create(): NativeHandle;
  fromShared(id: number): NativeHandle;
  shareId(h: NativeHandle): number;
  close(h: NativeHandle): void;
  fd(h: NativeHandle): number;
  add(h: NativeHandle, fd: number, key: number, interest: number, mode: number): void;
  modify(h: NativeHandle, fd: number, key: number, interest: number, mode: number): void;
  delete(h: NativeHandle, fd: number): void;
  wait(h: NativeHandle, batch: Uint32Array, timeoutMs: number): number;
  notify(h: NativeHandle): void;
  /** Reports (at the next wait) every registration whose fd was closed or reused behind its back; how many. */
  sweep(h: NativeHandle): number;
  /** Entries of a batch taken ahead of delivery whose fd (fds[i]; -1: skip) no longer names the file registered become gone; how many. */
  verify(h: NativeHandle, fds: Int32Array, batch: Uint32Array, n: number): number;
  pipe(): [number, number];
  socketpair(): [number, number];
  read(fd: number, buf: ArrayBufferView): number | null;
  write(fd: number, buf: ArrayBufferView): number | null;
  closeFd(fd: number): void;
  setNonblocking(fd: number): void;
  /** AIO_* bits the fd is ready for right now (poll with 0 ms). */
  fdReadiness(fd: number): number;
  /** [st_dev, st_ino, FIFO or SOCK_STREAM socket (a short read means drained), regular file (procfs/sysfs)] */
  fdStat(fd: number): [number, number, boolean, boolean];
  /** Whether `fd` still names the file `fdStat` gave `dev` and `ino` of (false: another file, or closed). */
  sameFile(fd: number, dev: number, ino: number): boolean;
  /** Drops the readable/writable bits of batch entries whose fd (fds[i]; -1: skip) is no longer ready. */
  recheck(fds: Int32Array, batch: Uint32Array, n: number): void;
  /** What kind of file an fd is (streams: bytes or messages, a terminal, a file readiness does not apply to). */
  fdKind(fd: number): FdKind;
  /** half-close; `how`: a `constants.shutdown` value */
  shutdown(fd: number, how: number): void;
  /** `type`: a `constants.socketTypes` value */
  socketpairOf(type: number): [number, number];
  /** A pseudo-terminal pair `[master, slave]`, both non-blocking and close-on-exec (pty.c; for `doctor --selftest`). */
  openpty(): [number, number];

  /**
   * A reactor for this environment: its poller's events are written as
   * (key, flags) pairs into `batch` and announced by `onBatch(kind, value)`:
   * kind 0, `value` events taken on the loop thread just now; 1, `value`
   * events taken by the helper thread ahead of JS (recheck them); 2, the
   * wait failed with `value` = -errno (nothing more comes); 3, a nested
   * driver switched itself to the driver `value`. `driver`: a
   * `constants.drivers` value. `flags` `constants.reactorFlags.napiOnly`: no
   * libuv (Bun, Deno): thread-safe function hand-off, env cleanup hook,
   * nested refused.
   */
  reactorCreate(driver: number, onBatch: (kind: number, value: number) => void, batch: Uint32Array, flags: number): ReactorHandle;
  /** Another reference on the reactor's poller, for a `Poller` to wrap. */
  reactorPoller(r: ReactorHandle): NativeHandle;
  /** Takes the ready events without blocking into the batch; returns the count. */
  reactorDispatch(r: ReactorHandle): number;
  /** Whether the reactor keeps the Node loop alive. */
  reactorRef(r: ReactorHandle, on: boolean): void;
  /** The driver in use now (a `constants.drivers` value). */
  reactorDriver(r: ReactorHandle): number;
  /** A close-on-exec dup of the poller's fd for embedders, or -1 (poll). */
  reactorFd(r: ReactorHandle): number;
  /** Adds `fd` to (or removes it from) the fds closed when the environment tears down. */
  reactorOwn(r: ReactorHandle, fd: number, owned: boolean): void;
  /** A pipe whose fds are owned by the reactor from birth. */
  reactorPipe(r: ReactorHandle): [number, number];
  /** An AF_UNIX stream pair whose fds are owned by the reactor from birth. */
  reactorSocketpair(r: ReactorHandle): [number, number];
  /**
   * A Poller handle on the side path's poller (started on first use), for
   * handles that wait for priority while another loop polls the reactor's fd;
   * null with the thread driver.
   */
  reactorSidePoller(r: ReactorHandle): NativeHandle | null;
  /** The start-up nesting probe's answer: 1 nests, 0 does not, -errno failed or not asked. */
  reactorProbe(r: ReactorHandle): number;
}

/** What `fstat` (and `SO_TYPE` for a socket, `isatty` for a character device) says an fd is. */
export type FdKind =
  | 'file' | 'directory' | 'block' | 'char' | 'tty' | 'fifo'
  | 'socket-stream' | 'socket-dgram' | 'socket-seqpacket' | 'socket-raw' | 'socket-other' | 'other';

/**
 * The driver name of a `constants.drivers` value (`reactorDriver`'s answer).
 *
 * @example driverName(addon.constants, addon.reactorDriver(r)) // 'nested'
 */
export function driverName(constants: NativeConstants, value: number): DriverName {
  for (const name of DRIVER_NAMES) if (constants.drivers[name] === value) return name;
  throw new RangeError(`unknown driver number ${value}`);
}
