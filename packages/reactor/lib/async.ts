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
  type NativeAddon,
  systemError,
  validateBuffer,
  validateFd,
} from '@async-io/backend-core/internal';
import { constants as osConstants } from 'node:os';
import { refuseUnpollable } from './fdtype.js';
import { spend, yieldThen } from './coop.js';
import { backendModule, kOnEvent, kOnFailure, type ReactorCore, reactorCore } from './reactor.js';

const R = FLAG_READABLE;
const W = FLAG_WRITABLE;
const P = FLAG_PRIORITY;
const DIRECTIONS = R | W | P;
/** Always reported, whatever was asked: the next op says EOF or the error. */
const HUP_ERR = FLAG_HANGUP | FLAG_ERROR;

/** Rejection for an aborted wait: Node's shape (`name` AbortError, `code` ABORT_ERR). */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface WaitOptions {
  signal?: AbortSignal;
}

export interface AsyncOptions {
  /** Close the fd when the handle closes (and when its thread's environment tears down). */
  ownsFd?: boolean;
}

/** What {@link Async.ready} detected. `hangup` and `error` are reported whatever was asked. */
export interface Readiness {
  readonly readable: boolean;
  readonly writable: boolean;
  readonly priority: boolean;
  /** The peer closed (pipe writer gone, socket shut down): reads drain what is buffered, then return 0. */
  readonly hangup: boolean;
  /** The kernel reports an error condition: the next op on the fd throws it. */
  readonly error: boolean;
}

function noop(): void {}

function readinessOf(flags: number): Readiness {
  return {
    readable: (flags & R) !== 0,
    writable: (flags & W) !== 0,
    priority: (flags & P) !== 0,
    hangup: (flags & FLAG_HANGUP) !== 0,
    error: (flags & FLAG_ERROR) !== 0,
  };
}

interface Waiter {
  /** A plain wait resolves with nothing... */
  readonly resolve: () => void;
  /** ...a `ready()` wait with the event's flags. */
  readonly report: ((flags: number) => void) | undefined;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** The directions it is queued for; 0 once settled. */
  bits: number;
}

/**
 * The waiters for one direction, first come first served. One waiter, the
 * common case, needs no array.
 */
class WaiterQueue {
  #first: Waiter | null = null;
  #rest: Waiter[] | null = null;

  get empty(): boolean {
    return this.#first === null;
  }

  push(w: Waiter): void {
    if (this.#first === null) this.#first = w;
    else (this.#rest ??= []).push(w);
  }

  /** Removes `w` if it is queued here. */
  remove(w: Waiter): void {
    if (this.#first === w) {
      this.#first = this.#rest?.shift() ?? null;
      return;
    }
    const i = this.#rest === null ? -1 : this.#rest.indexOf(w);
    if (i >= 0) this.#rest!.splice(i, 1);
  }

  /**
   * Empties the queue and returns what it held, in order: one waiter, an
   * array, or null. Waiters queued after this wait for the next take.
   */
  take(): Waiter | Waiter[] | null {
    const first = this.#first;
    if (first === null) return null;
    this.#first = null;
    const rest = this.#rest;
    if (rest === null || rest.length === 0) return first;
    this.#rest = null;
    rest.unshift(first);
    return rest;
  }
}

/**
 * How kernel readiness reaches a handle's waiters. One strategy per handle,
 * chosen once from the backend's capabilities.
 */
interface Strategy {
  /** Known to block on `bit`: wait for the kernel before trying the op. */
  blocked(bit: number): boolean;
  /** `bits` would block now (EAGAIN, or a short read/write on a stream fd). */
  wouldBlock(bits: number): void;
  /** FLAG_* bits ready right now for any of `bits` without waiting, or 0 when that takes a wait. */
  current(bits: number): number;
  /** An event brought `bits`. */
  event(bits: number): void;
  /** Waiters are queued for `want`: make the kernel report it. */
  arm(want: number): void;
  /** A priority wait starts. */
  watchPriority(): void;
  /** Waiters took what an event brought for `bits`. */
  taken(bits: number): void;
}

interface StrategyClass {
  /** `regular`: a regular file (procfs, sysfs), where asking poll() can consume a change. */
  new (reactor: ReactorCore, native: NativeAddon, fd: number, key: number, regular: boolean): Strategy;
  /** What the fd is registered for at construction. */
  readonly interest: Interest;
  readonly mode: PollMode;
}

/**
 * epoll, kqueue: registered once, edge-triggered, for reading and writing;
 * readiness is tracked here (the mio/tokio model), so an event costs no
 * syscall beyond the I/O itself. An edge marks its directions ready; a
 * would-block clears them until the next edge.
 */
class EdgeTracked implements Strategy {
  static readonly interest: Interest = { readable: true, writable: true };
  static readonly mode: PollMode = 'edge';
  /** reported and not yet disproved */
  #ready = 0;
  /** would block, no edge since */
  #blocked = 0;
  #priority = false;

  constructor(
    readonly reactor: ReactorCore,
    readonly native: NativeAddon,
    readonly fd: number,
    readonly key: number,
    readonly regular: boolean,
  ) {}

  blocked(bit: number): boolean {
    return (this.#blocked & bit) !== 0;
  }

  wouldBlock(bits: number): void {
    this.#ready &= ~bits;
    this.#blocked |= bits;
  }

  current(bits: number): number {
    if ((this.#ready & bits) === 0) return 0;
    if (this.regular) {
      // procfs/sysfs: asking poll() could consume the next change. Trust the
      // cache; a priority change is an event, reported to one wait only.
      const now = this.#ready & bits;
      this.#ready &= ~(now & P);
      return now;
    }
    // The caller may have drained the fd itself since the edge: confirm
    // with one poll(0) instead of trusting the cache.
    const now = this.native.fdReadiness(this.fd);
    if ((now & (bits | HUP_ERR)) !== 0) return now;
    this.wouldBlock(bits);
    return 0;
  }

  event(bits: number): void {
    this.#ready |= bits;
    this.#blocked &= ~bits;
  }

  arm(): void {}

  taken(bits: number): void {
    if (this.regular) this.#ready &= ~(bits & P);
  }

  watchPriority(): void {
    if (this.#priority) return;
    this.reactor.watchPriority(this.fd, this.key, { readable: true, writable: true, priority: true }, 'edge');
    this.#priority = true;
  }
}

/**
 * event ports, poll: re-armed oneshot for what the waiters want, whenever
 * someone waits and the last event disarmed it. Nothing is cached: the
 * kernel answers every wait.
 */
class Oneshot implements Strategy {
  static readonly interest: Interest = {};
  static readonly mode: PollMode = 'oneshot';
  /** the interest armed in the kernel now */
  #armed = 0;
  #priority = false;
  /** regular file: a priority change that came while nobody waited for it */
  #unclaimed = false;

  constructor(
    readonly reactor: ReactorCore,
    readonly native: NativeAddon,
    readonly fd: number,
    readonly key: number,
    readonly regular: boolean,
  ) {}

  blocked(): boolean {
    return false;
  }

  wouldBlock(): void {}

  current(bits: number): number {
    // The kernel answers every other wait. A procfs/sysfs change is reported
    // once and cannot be asked for again: keep the one no waiter took.
    if (!this.#unclaimed || (bits & P) === 0) return 0;
    this.#unclaimed = false;
    return P;
  }

  event(bits: number): void {
    this.#armed = 0;
    if (this.regular && (bits & P) !== 0) this.#unclaimed = true;
  }

  arm(want: number): void {
    if (want === 0 || (this.#armed & want) === want) return;
    this.reactor.modify(this.fd, this.key, { readable: (want & R) !== 0, writable: (want & W) !== 0, priority: (want & P) !== 0 }, 'oneshot');
    this.#armed = want;
  }

  taken(bits: number): void {
    if ((bits & P) !== 0) this.#unclaimed = false;
  }

  watchPriority(): void {
    if (this.#priority) return;
    // May move the registration (see ReactorCore.watchPriority): arm afresh.
    if (this.reactor.watchPriority(this.fd, this.key, {}, 'oneshot')) this.#armed = 0;
    this.#priority = true;
  }
}

function wouldBlock(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

function checkOptions(options: WaitOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  return signal;
}

function closedError(): Error {
  return codedError('ERR_ASYNC_CLOSED', 'The Async handle is closed');
}

function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/** The error of every wait on a handle whose fd was closed (or its number reused) behind its back. */
function goneError(fd: number): Error {
  return systemError('EBADF', -osConstants.errno.EBADF, 'fstat', `fd ${fd} was closed behind the Async handle's back (its number may name another file now)`);
}

/** Option key only this module has: the fd already belongs to the reactor (Async.pipe, Async.socketpair). */
const kAdopted = Symbol('async-io.adopted');

/**
 * An fd registered with this thread's reactor: async-io's `Async<T>` for a raw
 * file descriptor. Makes the fd non-blocking.
 *
 * Where the backend can (epoll, kqueue) the fd is registered once,
 * edge-triggered, and readiness is tracked here: no syscall per event beyond
 * the I/O itself. Elsewhere it is re-armed oneshot while someone waits.
 *
 * @example
 * const [r, w] = pipe();
 * using reader = new Async(r, { ownsFd: true });
 * const n = await reader.read(buf);                   // or:
 * const m = await reader.readWith(() => read(r, buf)); // null from read() = would block
 */
export class Async implements Disposable {
  readonly fd: number;
  readonly #reactor: ReactorCore;
  readonly #native: NativeAddon;
  readonly #key: number;
  readonly #strategy: Strategy;
  readonly #ownsFd: boolean;
  /** FIFO or stream socket: a short read means drained */
  readonly #stream: boolean;
  /** the fd was closed (or reused) behind the handle's back: every wait rejects with this */
  #gone: Error | null = null;
  /** st_dev/st_ino at registration, for read()/write() (and the streams on them) to check before each syscall */
  readonly #dev: number;
  readonly #ino: number;
  readonly #readers = new WaiterQueue();
  readonly #writers = new WaiterQueue();
  readonly #urgent = new WaiterQueue();
  /** waiters queued (each counted once, however many directions it waits for) */
  #pending = 0;
  #closed = false;
  /** the kernel reported hangup or error: that edge does not come again */
  #hungUp = false;
  #ref = true;

  /**
   * Registers `fd` with the calling thread's reactor. EEXIST when another
   * live handle has it.
   *
   * @example const handle = new Async(fd, { ownsFd: true });
   */
  constructor(fd: number, options: AsyncOptions = {}) {
    validateFd(fd);
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    if (options.ownsFd !== undefined && typeof options.ownsFd !== 'boolean') {
      throw invalidArgType('options.ownsFd', 'of type boolean', options.ownsFd);
    }
    const reactor = reactorCore();
    const mod = backendModule();
    this.#native = mod.native;
    const [dev, ino, stream, regular] = this.#native.fdStat(fd);
    this.#dev = dev;
    this.#ino = ino;
    this.#stream = stream;
    if (!this.#stream) refuseUnpollable(fd, this.#native.fdKind(fd), true);
    mod.setNonblocking(fd);
    this.fd = fd;
    this.#reactor = reactor;
    this.#ownsFd = options.ownsFd ?? false;
    const Strategy: StrategyClass = reactor.poller.supportsEdge() ? EdgeTracked : Oneshot;
    this.#key = reactor.register(this, fd, Strategy.interest, Strategy.mode, !regular, this.#ownsFd);
    this.#strategy = new Strategy(reactor, this.#native, fd, this.#key, regular);
    if (this.#ownsFd && !(kAdopted in options && options[kAdopted] === true)) {
      try {
        reactor.own(fd, true);
      } catch (error) {
        reactor.deregister(fd, this.#key);
        throw error;
      }
    }
  }

  /**
   * A pipe as two owning handles, `[reader, writer]`. The fds belong to the
   * reactor from birth: a Worker terminated at any point leaks neither.
   *
   * @example const [reader, writer] = Async.pipe();
   */
  static pipe(): [reader: Async, writer: Async] {
    return adoptPair(reactorCore().ownedPair('pipe'));
  }

  /**
   * A connected AF_UNIX stream pair as two owning handles.
   *
   * @example const [a, b] = Async.socketpair();
   */
  static socketpair(): [Async, Async] {
    return adoptPair(reactorCore().ownedPair('socketpair'));
  }

  /**
   * Resolves when the fd is readable (or at EOF/error): `ready({ readable: true })` without the report.
   *
   * @example await handle.readable({ signal: AbortSignal.timeout(1000) });
   */
  readable(options?: WaitOptions): Promise<void> {
    return this.#waitFor(R, options);
  }

  /**
   * Resolves when the fd is writable (or has an error).
   *
   * @example await handle.writable(); write(handle.fd, chunk);
   */
  writable(options?: WaitOptions): Promise<void> {
    return this.#waitFor(W, options);
  }

  /**
   * Resolves when priority (out-of-band) data is available. ENOTSUP where the backend cannot watch it.
   *
   * @example await handle.priority(); // e.g. a sysfs attribute or /proc/self/mountinfo changed
   */
  priority(options?: WaitOptions): Promise<void> {
    try {
      checkOptions(options);
      this.#watchPriority();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#waitFor(P, options);
  }

  /**
   * Resolves when any of `interest` is ready, or the fd hung up or has an
   * error, with what was detected (tokio's `ready(Interest)`): the asked-for
   * directions that are ready, plus `hangup` and `error`.
   *
   * `readable()`/`writable()`/`priority()` are the same wait for one
   * direction, without the report. Readiness is not consumed by a wait: it
   * is cleared when an op would block (a `null` or EAGAIN from `read()`,
   * `readWith()`, `write()`, `writeWith()`, or a short read/write on a pipe
   * or stream socket) and renewed by the kernel's next event. So read until
   * it would block before waiting again, or the next wait returns at once.
   *
   * @example
   * const { readable, hangup } = await handle.ready({ readable: true, writable: true });
   * if (readable) n = read(handle.fd, buf); // data, or 0 when the peer hung up
   */
  ready(interest: Interest, options?: WaitOptions): Promise<Readiness> {
    let bits: number;
    let signal: AbortSignal | undefined;
    try {
      bits = interestBits(interest);
      if (bits === 0) throw invalidArgValue('interest', interest, 'must ask for at least one of readable, writable, priority');
      signal = checkOptions(options);
      if (bits & P) this.#watchPriority();
    } catch (error) {
      return Promise.reject(error);
    }
    const mask = bits | HUP_ERR;
    if (!this.#closed && this.#gone === null && !signal?.aborted) {
      let now: number;
      try {
        now = this.#strategy.current(bits);
      } catch (error) {
        return Promise.reject(error);
      }
      if (now !== 0) {
        if (spend()) return Promise.resolve(readinessOf(now & mask));
        return new Promise((resolve, reject) => yieldThen(() => this.ready(interest, options).then(resolve, reject)));
      }
    }
    return new Promise<Readiness>((resolve, reject) =>
      this.#enqueue(bits, noop, reject, signal, (flags) => resolve(readinessOf(flags & mask))),
    );
  }

  /**
   * Calls `op` until it does not "would block": `op` signals that by
   * returning `null` (the fd helpers do) or throwing an EAGAIN/EWOULDBLOCK
   * error. Resolves with `op`'s result.
   *
   * @example const n = await handle.readWith(() => read(handle.fd, buf));
   */
  readWith<T>(op: () => T | null, options?: WaitOptions): Promise<T> {
    return this.#with(R, op, options);
  }

  /**
   * As {@link readWith}, waiting for writability.
   *
   * @example const n = await handle.writeWith(() => write(handle.fd, chunk));
   */
  writeWith<T>(op: () => T | null, options?: WaitOptions): Promise<T> {
    return this.#with(W, op, options);
  }

  /**
   * Reads into `buf` once data is there: bytes read, 0 at EOF. On a pipe or
   * stream socket a short read marks the fd drained, so the next call waits
   * for the kernel's next edge instead of trying a read that would fail.
   *
   * @example const n = await handle.read(buf); if (n === 0) handle.close();
   */
  read(buf: ArrayBufferView, options?: WaitOptions): Promise<number> {
    return this.#io(R, buf, options);
  }

  /**
   * Writes `buf` once there is room: bytes written (maybe fewer than asked).
   *
   * @example const n = await handle.write(Buffer.from('hello'));
   */
  write(buf: ArrayBufferView, options?: WaitOptions): Promise<number> {
    return this.#io(W, buf, options);
  }

  /**
   * Pending waits on this handle keep the process alive (the default).
   *
   * @example handle.unref().ref();
   */
  ref(): this {
    if (!this.#ref) {
      this.#ref = true;
      for (let i = 0; i < this.#pending; i++) this.#reactor.retain();
    }
    return this;
  }

  /**
   * Pending waits on this handle no longer keep the process alive.
   *
   * @example handle.unref(); // a background watch that must not hold the process
   */
  unref(): this {
    if (this.#ref) {
      this.#ref = false;
      for (let i = 0; i < this.#pending; i++) this.#reactor.release();
    }
    return this;
  }

  /**
   * Whether pending waits keep the process alive.
   *
   * @example if (!handle.hasRef()) handle.ref();
   */
  hasRef(): boolean {
    return this.#ref;
  }

  /**
   * Whether {@link close} was called.
   *
   * @example if (!handle.closed) handle.close();
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Deregisters the fd, rejects pending waits with `ERR_ASYNC_CLOSED`, and
   * closes the fd if the handle owns it. Idempotent.
   *
   * @example handle.close(); // or: using handle = new Async(fd);
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#reactor.deregister(this.fd, this.#key);
    } finally {
      this[kOnFailure](codedError('ERR_ASYNC_CLOSED', 'The Async handle was closed'));
      if (this.#ownsFd) {
        this.#reactor.own(this.fd, false);
        this.#native.closeFd(this.fd);
      }
    }
  }

  /** {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal the reactor delivers an event (FLAG_* bits) */
  [kOnEvent](flags: number): void {
    if ((flags & FLAG_GONE) !== 0) {
      // The front found the fd closed (or its number reused) behind our back:
      // the registration is gone, and no wait may touch what the number names now.
      this.#gone = goneError(this.fd);
      return this[kOnFailure](this.#gone);
    }
    // Hangup and error wake every waiter: their next op reports EOF or the error.
    const bits = flags & HUP_ERR ? DIRECTIONS : flags & DIRECTIONS;
    if (flags & HUP_ERR) this.#hungUp = true;
    this.#strategy.event(bits);
    if (bits & R) this.#wake(this.#readers, flags, null);
    if (bits & W) this.#wake(this.#writers, flags, null);
    if (bits & P) {
      const waited = !this.#urgent.empty;
      this.#wake(this.#urgent, flags, null);
      if (waited) this.#strategy.taken(P);
    }
    if (this.#pending > 0 && !this.#closed) {
      try {
        this.#strategy.arm(this.#want());
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EBADF') this.#gone ??= error as Error;
        this[kOnFailure](error as Error);
      }
    }
  }

  /** @internal reject every pending wait */
  [kOnFailure](error: Error): void {
    this.#wake(this.#readers, 0, error);
    this.#wake(this.#writers, 0, error);
    this.#wake(this.#urgent, 0, error);
  }

  #sameFile(): boolean {
    return this.#native.sameFile(this.fd, this.#dev, this.#ino);
  }

  #watchPriority(): void {
    // A closed handle says so (its wait rejects ERR_ASYNC_CLOSED) before any
    // capability is asked: the same answer on every kernel.
    if (this.#closed) return;
    if (!this.#reactor.poller.supportsPriority()) {
      throw codedError('ENOTSUP', `ENOTSUP: the ${this.#reactor.backend} backend cannot watch priority data here`);
    }
    this.#strategy.watchPriority();
  }

  /**
   * First attempt synchronously (no promise machinery when it succeeds),
   * unless the fd is known to block: edge-tracked readiness cleared by an
   * earlier would-block and not renewed by an event since (tokio's rule).
   */
  #with<T>(bit: number, op: () => T | null, options: WaitOptions | undefined): Promise<T> {
    if (typeof op !== 'function') return Promise.reject(invalidArgType('op', 'of type function', op));
    let signal: AbortSignal | undefined;
    try {
      signal = checkOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.#strategy.blocked(bit) && signal === undefined && !this.#closed && this.#gone === null) {
      if (!spend()) return new Promise((resolve, reject) => yieldThen(() => this.#with(bit, op, options).then(resolve, reject)));
      let result: T | null;
      try {
        result = op();
      } catch (error) {
        if (!wouldBlock(error)) return Promise.reject(error);
        result = null;
      }
      if (result !== null) return Promise.resolve(result);
      this.#strategy.wouldBlock(bit);
    }
    return this.#op(bit, op, signal, true);
  }

  /**
   * Runs `attempt` until it does not would-block, waiting for `bit` between
   * tries. The retry runs as the waiter itself, straight from the reactor's
   * dispatch: no async frame and no intermediate promise per event.
   */
  #op<T>(bit: number, attempt: () => T | null, signal: AbortSignal | undefined, waitFirst: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const step = (): void => {
        if (this.#closed) return reject(closedError());
        if (this.#gone) return reject(this.#gone);
        if (signal?.aborted) return reject(abortError(signal));
        let result: T | null;
        try {
          result = attempt();
        } catch (error) {
          if (!wouldBlock(error)) return reject(error);
          result = null;
        }
        if (result !== null) return resolve(result);
        this.#strategy.wouldBlock(bit);
        this.#enqueue(bit, step, reject, signal);
      };
      if (waitFirst) this.#enqueue(bit, step, reject, signal);
      else step();
    });
  }

  #io(bit: number, buf: ArrayBufferView, options: WaitOptions | undefined): Promise<number> {
    let signal: AbortSignal | undefined;
    try {
      validateBuffer(buf);
      signal = checkOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const native = this.#native;
    const fd = this.fd;
    const stream = this.#stream;
    const attempt = (): number | null => {
      // The bytes read or written are the registered file's, never those of
      // a file that took the number after a close behind our back: one
      // fstat per call (the registration's own events are checked by the
      // front). Not for an fd the handle owns: it closes it itself.
      if (!this.#ownsFd && !this.#sameFile()) throw (this.#gone ??= goneError(fd));
      const n = bit === R ? native.read(fd, buf) : native.write(fd, buf);
      // A short read/write on a stream fd: drained/full until the next edge.
      // (Not after a hangup: the next read is EOF, and no edge would come.)
      if (n !== null && stream && n > 0 && n < buf.byteLength && !this.#hungUp) this.#strategy.wouldBlock(bit);
      return n;
    };
    const waitFirst = this.#strategy.blocked(bit);
    if (!waitFirst && !this.#closed && !spend()) {
      return new Promise((resolve, reject) => yieldThen(() => this.#io(bit, buf, options).then(resolve, reject)));
    }
    return this.#op(bit, attempt, signal, waitFirst);
  }

  #waitFor(bit: number, options: WaitOptions | undefined): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = checkOptions(options);
      if (!this.#closed && this.#gone === null && !signal?.aborted && this.#strategy.current(bit) !== 0) {
        if (spend()) return Promise.resolve();
        return new Promise<void>((resolve, reject) => yieldThen(() => this.#waitFor(bit, options).then(resolve, reject)));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => this.#enqueue(bit, resolve, reject, signal));
  }

  /** Queues a waiter for the directions in `bits`; `resolve` runs when an event brings one of them. */
  #enqueue(
    bits: number,
    resolve: () => void,
    reject: (error: Error) => void,
    signal: AbortSignal | undefined,
    report?: (flags: number) => void,
  ): void {
    if (this.#closed) return reject(closedError());
    if (this.#gone) return reject(this.#gone);
    if (signal?.aborted) return reject(abortError(signal));
    const waiter: Waiter = { resolve, report, reject, signal, onAbort: undefined, bits };
    if (signal) {
      waiter.onAbort = () => {
        if (waiter.bits === 0) return;
        this.#unqueue(waiter, waiter.bits);
        waiter.bits = 0;
        this.#settled();
        reject(abortError(signal));
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    if (bits & R) this.#readers.push(waiter);
    if (bits & W) this.#writers.push(waiter);
    if (bits & P) this.#urgent.push(waiter);
    this.#pending++;
    if (this.#ref) this.#reactor.retain();
    try {
      this.#strategy.arm(this.#want());
    } catch (error) {
      // The kernel refused to arm, or the front found the fd closed or
      // reused behind our back (EBADF: the registration is gone).
      if ((error as NodeJS.ErrnoException).code === 'EBADF') this.#gone ??= error as Error;
      this.#unqueue(waiter, bits);
      this.#settle(waiter, 0, error as Error);
    }
  }

  #unqueue(w: Waiter, bits: number): void {
    if (bits & R) this.#readers.remove(w);
    if (bits & W) this.#writers.remove(w);
    if (bits & P) this.#urgent.remove(w);
  }

  #want(): number {
    return (this.#readers.empty ? 0 : R) | (this.#writers.empty ? 0 : W) | (this.#urgent.empty ? 0 : P);
  }

  #settled(): void {
    this.#pending--;
    if (this.#ref) this.#reactor.release();
  }

  #wake(queue: WaiterQueue, flags: number, error: Error | null): void {
    const taken = queue.take();
    if (taken === null) return;
    if (Array.isArray(taken)) for (const w of taken) this.#settle(w, flags, error);
    else this.#settle(taken, flags, error);
  }

  #settle(w: Waiter, flags: number, error: Error | null): void {
    const bits = w.bits;
    if (bits === 0) return; // settled through another of its queues, or aborted
    w.bits = 0;
    if ((bits & (bits - 1)) !== 0) this.#unqueue(w, bits); // queued for several directions
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
    // Settle before counting down: a retrying op re-queues inside resolve(),
    // and the reactor's ref count then never touches zero in between.
    try {
      if (error !== null) w.reject(error);
      else if (w.report !== undefined) w.report(flags);
      else w.resolve();
    } finally {
      this.#settled();
    }
  }
}

/** Two fds the reactor owns already, as owning handles; on failure none is left open. */
function adoptPair([a, b]: [number, number]): [Async, Async] {
  const options = { ownsFd: true, [kAdopted]: true };
  let first: Async | undefined;
  try {
    first = new Async(a, options);
    return [first, new Async(b, options)];
  } catch (error) {
    const reactor = reactorCore();
    const native = backendModule().native;
    for (const fd of first ? [b] : [a, b]) {
      reactor.own(fd, false);
      native.closeFd(fd);
    }
    first?.close();
    throw error;
  }
}
