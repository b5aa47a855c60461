import type { Interest, PollMode } from '@async-io/backend-core';
import {
  codedError,
  FLAG_ERROR,
  FLAG_GONE,
  FLAG_HANGUP,
  FLAG_PRIORITY,
  FLAG_READABLE,
  FLAG_WRITABLE,
  interestBits,
  invalidArgType,
  invalidArgValue,
  systemError,
  validateFd,
} from '@async-io/backend-core/internal';
import { constants as osConstants } from 'node:os';
import type { Readiness } from './async.js';
import { refuseUnpollable } from './fdtype.js';
import { backendModule, kOnEvent, kOnFailure, reactorCore, type Source } from './reactor.js';

// ---- reactor adapter ------------------------------------------------------
// Every use the watcher makes of the reactor's internals is in these lines
// (the registration seam documented in reactor.ts).
interface Port {
  /** Registers `source` for `fd` and returns its key (EEXIST while a live source holds the fd). */
  register(source: Source, fd: number, interest: number, mode: PollMode, regular: boolean, owned: boolean): number;
  /** Moves `fd`'s registration to a fresh key (in-flight events of `key` are dropped). */
  rekey(source: Source, fd: number, key: number, interest: number, mode: PollMode): number;
  modify(fd: number, key: number, interest: number, mode: PollMode): void;
  deregister(fd: number, key: number): void;
  caps: { level: boolean; edge: boolean; priority: boolean; backend: string };
  retain(): void;
  release(): void;
  own(fd: number, owned: boolean): void;
  /** A regular file (procfs/sysfs): registered without the poll() recheck. */
  isRegular(fd: number): boolean;
  closeFd(fd: number): void;
}
let port: Port | null = null;
function reactorPort(): Port {
  if (port !== null) return port;
  const core = reactorCore();
  const p = core.poller;
  const interests: Interest[] = [];
  for (let b = 0; b < 8; b++) interests.push({ readable: (b & 1) !== 0, writable: (b & 2) !== 0, priority: (b & 4) !== 0 });
  const interest = (bits: number): Interest => interests[bits]!;
  // Priority interest may move the registration to the side path (see ReactorCore.watchPriority).
  const withPriority = (fd: number, key: number, bits: number, mode: PollMode): number => {
    if ((bits & FLAG_PRIORITY) !== 0) core.watchPriority(fd, key, interest(bits), mode);
    return key;
  };
  port = {
    register: (source, fd, bits, mode, regular, owned) =>
      withPriority(fd, core.register(source, fd, interest(bits), mode, !regular, owned), bits, mode),
    rekey: (source, fd, key, bits, mode) => withPriority(fd, core.rekey(source, fd, key, interest(bits), mode), bits, mode),
    modify: (fd, key, bits, mode) => core.modify(fd, key, interest(bits), mode),
    deregister: (fd, key) => core.deregister(fd, key),
    caps: { level: p.supportsLevel(), edge: p.supportsEdge(), priority: p.supportsPriority(), backend: core.backend },
    retain: () => core.retain(),
    release: () => core.release(),
    own: (fd, owned) => core.own(fd, owned),
    isRegular: (fd) => backendModule().native.fdStat(fd)[3],
    closeFd: (fd) => backendModule().close(fd),
  };
  return port;
}
// ---- end of the reactor adapter -------------------------------------------

/**
 * The bits of a watcher callback's `flags` (and of `watch()`'s interest):
 * `READABLE`, `WRITABLE`, `PRIORITY`; `HANGUP` and `ERROR` are delivered
 * whatever the interest.
 *
 * @example
 * watch(fd, WatchFlags.READABLE, (fd, flags) => {
 *   if (flags & WatchFlags.HANGUP) console.log('peer closed');
 * });
 */
export const WatchFlags = Object.freeze({
  READABLE: FLAG_READABLE,
  WRITABLE: FLAG_WRITABLE,
  PRIORITY: FLAG_PRIORITY,
  HANGUP: FLAG_HANGUP,
  ERROR: FLAG_ERROR,
} as const);

/**
 * Decodes a watcher callback's `flags` into booleans. Allocates: for logging
 * and tests; in a hot callback test the bits with {@link WatchFlags}.
 *
 * @example decodeFlags(WatchFlags.READABLE | WatchFlags.HANGUP); // { readable: true, hangup: true, ... }
 */
export function decodeFlags(flags: number): Readiness {
  if (typeof flags !== 'number') throw invalidArgType('flags', 'of type number', flags);
  return {
    readable: (flags & FLAG_READABLE) !== 0,
    writable: (flags & FLAG_WRITABLE) !== 0,
    priority: (flags & FLAG_PRIORITY) !== 0,
    hangup: (flags & FLAG_HANGUP) !== 0,
    error: (flags & FLAG_ERROR) !== 0,
  };
}

/**
 * - `'level'` (default): called on every reactor turn while the fd is ready,
 *   like `uv_poll_t` and `EPOLLIN`.
 * - `'edge'`: called once per readiness change (`EPOLLET`, `EV_CLEAR`); read
 *   until `EAGAIN` each time. Where the backend has no edge mode it is
 *   emulated by re-arming a oneshot registration after each callback: you may
 *   then be called again while still ready, never less often.
 * - `'oneshot'`: called once, then the watcher stops; `start()` re-arms it
 *   (`EPOLLONESHOT`).
 */
export type WatchMode = 'level' | 'edge' | 'oneshot';
const MODES: readonly WatchMode[] = ['level', 'edge', 'oneshot'];

export interface WatchOptions {
  /** Default `'level'`. */
  mode?: WatchMode;
  /** `close()` closes the fd; so does the teardown of this thread (Worker exit). Default false. */
  ownsFd?: boolean;
  /**
   * Told when the watcher stops for a reason of its own (the reactor failed,
   * re-arming failed). Without it, such an error is thrown as an uncaught
   * exception.
   */
  onError?: (error: Error) => void;
}

/** `(fd, flags)`: `flags` holds {@link WatchFlags} bits. */
export type WatchCallback = (fd: number, flags: number) => void;

/**
 * A `uv_poll_t`-style watcher returned by {@link watch}. While active and
 * ref'd it keeps the process alive, like a libuv handle.
 *
 * @example
 * const w = watch(fd, WatchFlags.READABLE, onReady);
 * w.stop();            // no more callbacks, not even for events already taken
 * w.start();           // again (optionally with a new interest)
 * w.close();           // deregisters; closes fd if ownsFd
 */
export interface Watcher extends Disposable {
  readonly fd: number;
  readonly mode: WatchMode;
  /** Started and not stopped (a oneshot watcher stops itself when it fires). */
  readonly active: boolean;
  readonly closed: boolean;
  /** (Re)starts watching, with a new interest if given; re-arms a oneshot watcher. */
  start(interest?: number | Interest): this;
  /** Stops watching (deregisters the fd). Idempotent. */
  stop(): this;
  /** Stops, forgets the fd and closes it if the watcher owns it. Idempotent. */
  close(): void;
  /** An active watcher keeps the process alive (the default). */
  ref(): this;
  /** An active watcher no longer keeps the process alive. */
  unref(): this;
  hasRef(): boolean;
}

function rethrow(error: unknown): never {
  throw error;
}

function closedError(): Error {
  return codedError('ERR_WATCHER_CLOSED', 'The watcher is closed');
}

function parseInterest(interest: unknown): number {
  if (typeof interest === 'number') {
    if (!Number.isInteger(interest) || (interest & ~(FLAG_READABLE | FLAG_WRITABLE | FLAG_PRIORITY)) !== 0 || interest < 0) {
      throw invalidArgValue('interest', interest, 'must combine WatchFlags.READABLE, WRITABLE and PRIORITY');
    }
    return interest;
  }
  return interestBits(interest);
}

function goneError(fd: number): Error {
  return systemError('EBADF', -osConstants.errno.EBADF, 'fstat', `fd ${fd} was closed behind the watcher's back (its number may name another file now)`);
}

class FdWatcher implements Watcher, Source {
  readonly fd: number;
  readonly mode: WatchMode;
  /** @internal the reactor key of the current registration */
  key = 0;
  readonly #port: Port;
  readonly #callback: WatchCallback;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #ownsFd: boolean;
  readonly #kernelMode: PollMode;
  /** a oneshot registration standing in for level/edge: re-armed after each callback */
  readonly #rearm: boolean;
  /** mode 'oneshot': stops itself when it fires */
  readonly #oneshot: boolean;
  readonly #regular: boolean;
  #interest: number;
  #registered = false;
  #active = false;
  #closed = false;
  #ref = true;

  constructor(fd: number, interest: number, callback: WatchCallback, mode: WatchMode, ownsFd: boolean, onError: WatchOptions['onError']) {
    const p = reactorPort();
    if ((interest & FLAG_PRIORITY) !== 0 && !p.caps.priority) {
      throw codedError('ENOTSUP', `ENOTSUP: the ${p.caps.backend} backend cannot watch priority data here`);
    }
    this.#regular = p.isRegular(fd);
    refuseUnpollable(fd, backendModule().native.fdKind(fd), true);
    this.fd = fd;
    this.mode = mode;
    this.#port = p;
    this.#callback = callback;
    this.#onError = onError;
    this.#ownsFd = ownsFd;
    this.#interest = interest;
    const native = mode === 'level' ? p.caps.level : mode === 'edge' ? p.caps.edge : true;
    this.#kernelMode = native ? mode : 'oneshot';
    this.#rearm = !native;
    this.#oneshot = mode === 'oneshot';
    this.#register();
    if (ownsFd) p.own(fd, true);
  }

  get active(): boolean {
    return this.#active;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(interest?: number | Interest): this {
    if (this.#closed) throw closedError();
    if (interest !== undefined) {
      const bits = parseInterest(interest);
      if ((bits & FLAG_PRIORITY) !== 0 && !this.#port.caps.priority) {
        throw codedError('ENOTSUP', `ENOTSUP: the ${this.#port.caps.backend} backend cannot watch priority data here`);
      }
      this.#interest = bits;
    }
    this.#register();
    return this;
  }

  stop(): this {
    if (this.#registered) {
      this.#registered = false;
      this.#port.deregister(this.fd, this.key); // an fd closed behind our back is fine
    }
    this.#deactivate();
    return this;
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.stop();
    } finally {
      this.#closed = true;
      if (this.#ownsFd) {
        this.#port.own(this.fd, false);
        this.#port.closeFd(this.fd);
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  ref(): this {
    if (!this.#ref) {
      this.#ref = true;
      if (this.#active) this.#port.retain();
    }
    return this;
  }

  unref(): this {
    if (this.#ref) {
      this.#ref = false;
      if (this.#active) this.#port.release();
    }
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  /**
   * Registers (or re-registers) under a fresh key: entries of the previous
   * registration still in a batch being delivered are dropped by the reactor.
   */
  #register(): void {
    const p = this.#port;
    const key = this.#registered
      ? p.rekey(this, this.fd, this.key, this.#interest, this.#kernelMode)
      : p.register(this, this.fd, this.#interest, this.#kernelMode, this.#regular, this.#ownsFd);
    this.key = key;
    this.#registered = true;
    if (!this.#active) {
      this.#active = true;
      if (this.#ref) p.retain();
    }
  }

  #deactivate(): void {
    if (!this.#active) return;
    this.#active = false;
    if (this.#ref) this.#port.release();
  }

  #fail(error: Error): void {
    this.#deactivate();
    if (this.#onError) this.#onError(error);
    else process.nextTick(rethrow, error);
  }

  /** @internal the reactor delivers one batch entry */
  [kOnEvent](flags: number): void {
    if ((flags & FLAG_GONE) !== 0) {
      // The front found the fd closed (or its number reused) behind our back:
      // the registration is gone (its key already freed), and the callback
      // must not run for whatever the number names now.
      this.#registered = false;
      if (this.#active) this.#fail(goneError(this.fd));
      return;
    }
    if (!this.#active) return; // stopped by an earlier callback of this batch
    if (this.#oneshot) this.#deactivate();
    const key = this.key;
    try {
      this.#callback(this.fd, flags);
    } catch (error) {
      // Uncaught, as from any Node callback, without losing the rest of the batch.
      process.nextTick(rethrow, error);
    }
    if (this.#rearm && this.#active && this.key === key) {
      try {
        this.#port.modify(this.fd, key, this.#interest, 'oneshot');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EBADF') this.#registered = false; // gone (front.c)
        this.#fail(error as Error);
      }
    }
  }

  /** @internal the reactor failed for good */
  [kOnFailure](error: Error): void {
    if (this.#active) this.#fail(error);
  }
}

/**
 * Watches `fd` and calls `callback(fd, flags)` for each readiness event: one
 * plain call per reactor batch entry, no promise and no object per event.
 * The fastest way to hear about an fd, and the drop-in for npm `epoll` and
 * `uv-poll` users. `flags` holds {@link WatchFlags} bits. The watcher does
 * not change the fd's flags: make it non-blocking yourself for edge mode.
 * One registration per fd per thread: an fd that already has an `Async`,
 * a stream or another watcher is refused with `EEXIST`.
 *
 * @example
 * import { watch, WatchFlags, pipe, read, write } from '@async-io/reactor';
 * const [r, w] = pipe();
 * const buf = Buffer.alloc(4096);
 * const watcher = watch(r, WatchFlags.READABLE, (fd, flags) => {
 *   if (flags & WatchFlags.READABLE) console.log(read(fd, buf), 'bytes');
 *   watcher.close();
 * });
 * write(w, Buffer.from('hello'));
 */
export function watch(fd: number, interest: number | Interest, callback: WatchCallback, options: WatchOptions = {}): Watcher {
  validateFd(fd);
  const bits = parseInterest(interest);
  if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const { mode = 'level', ownsFd = false, onError } = options;
  if (!MODES.includes(mode)) {
    if (typeof mode !== 'string') throw invalidArgType('options.mode', 'of type string', mode);
    throw invalidArgValue('options.mode', mode, "must be one of 'level', 'edge', 'oneshot'");
  }
  if (typeof ownsFd !== 'boolean') throw invalidArgType('options.ownsFd', 'of type boolean', ownsFd);
  if (onError !== undefined && typeof onError !== 'function') throw invalidArgType('options.onError', 'of type function', onError);
  return new FdWatcher(fd, bits, callback, mode, ownsFd, onError);
}
