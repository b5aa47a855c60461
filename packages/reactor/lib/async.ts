import {
  codedError,
  FLAG_ERROR,
  FLAG_HANGUP,
  FLAG_PRIORITY,
  FLAG_READABLE,
  FLAG_WRITABLE,
  invalidArgType,
  type NativeAddon,
  validateBuffer,
  validateFd,
} from '@async-io/backend-core';
import { backendModule, kIsStale, kOnEvent, kOnFailure, Reactor, type Source } from './reactor.js';

const R = FLAG_READABLE; // waiter slot 0
const W = FLAG_WRITABLE; // waiter slot 1
const P = FLAG_PRIORITY; // waiter slot 2
const ALL = R | W | P;

/** Rejection for an aborted wait: Node's shape (`name` AbortError, `code` ABORT_ERR). */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export interface WaitOptions {
  signal?: AbortSignal;
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
export class Async implements Disposable, Source {
  readonly fd: number;
  /** @internal the reactor key (slot + generation) */
  readonly key: number;
  readonly #reactor: Reactor;
  readonly #native: NativeAddon;
  readonly #ownsFd: boolean;
  readonly #edge: boolean;
  #closed = false;
  #ref = true;
  /** edge mode: readiness seen and not yet disproved (EAGAIN, short read) */
  #ready = 0;
  /** edge mode: known to block (EAGAIN or a short stream read seen, no event since) */
  #blocked = 0;
  /** oneshot mode: the interest currently armed in the kernel */
  #armed = 0;
  #priorityRegistered = false;
  /** FIFO or stream socket: a short read means drained */
  readonly #stream: boolean;
  /** hangup/error seen: sticky, so a short read no longer means "wait for an edge" (EOF is next) */
  #hungUp = false;
  /** st_dev/st_ino at registration: tells a reused fd number from our file */
  readonly #dev: number;
  readonly #ino: number;
  #pending = 0;
  /** the first waiter per direction (read, write, priority), and the rest */
  #w0: Waiter | null = null;
  #w1: Waiter | null = null;
  #w2: Waiter | null = null;
  #more: [Waiter[], Waiter[], Waiter[]] | null = null;

  constructor(fd: number, options: { ownsFd?: boolean } = {}) {
    validateFd(fd);
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    if (options.ownsFd !== undefined && typeof options.ownsFd !== 'boolean') {
      throw invalidArgType('options.ownsFd', 'of type boolean', options.ownsFd);
    }
    const reactor = Reactor.get();
    const mod = backendModule();
    this.#native = mod.native;
    [this.#dev, this.#ino, this.#stream] = this.#native.fdStat(fd);
    mod.setNonblocking(fd);
    this.fd = fd;
    this.#reactor = reactor;
    this.#ownsFd = options.ownsFd ?? false;
    this.#edge = reactor.poller.supportsEdge();
    this.key = reactor.newKey();
    const interest = this.#edge ? { readable: true, writable: true } : {};
    const mode = this.#edge ? 'edge' : 'oneshot';
    try {
      try {
        reactor.poller.add(fd, this.key, interest, mode);
      } catch (error) {
        // A handle whose fd was closed behind its back (and the number reused
        // for a new file) may still hold the registration on backends that
        // keep a table by number (poll): take it over. A live handle on the
        // same file keeps it: EEXIST.
        const holder = reactor.byFd.get(fd); // Async or Watcher: staleness through kIsStale
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || holder === undefined || !holder[kIsStale]()) throw error;
        reactor.poller.modify(fd, this.key, interest, mode);
      }
    } catch (error) {
      reactor.detach(this.key);
      throw error;
    }
    reactor.attach(this);
    reactor.byFd.set(fd, this);
    if (this.#ownsFd && !Async.#adopting) reactor.own(fd, true);
  }

  static #adopting = false;

  static #pair(kind: 'pipe' | 'socketpair'): [Async, Async] {
    const [a, b] = Reactor.get().ownedPair(kind);
    Async.#adopting = true;
    try {
      const first = new Async(a, { ownsFd: true });
      try {
        return [first, new Async(b, { ownsFd: true })];
      } catch (error) {
        first.close();
        throw error;
      }
    } finally {
      Async.#adopting = false;
    }
  }

  /**
   * A pipe as two owning handles, `[reader, writer]`. The fds belong to the
   * reactor from birth: a Worker terminated at any point leaks neither.
   *
   * @example const [reader, writer] = Async.pipe();
   */
  static pipe(): [reader: Async, writer: Async] {
    return Async.#pair('pipe');
  }

  /** A connected AF_UNIX stream pair as two owning handles. */
  static socketpair(): [Async, Async] {
    return Async.#pair('socketpair');
  }

  /** @internal shared with Watcher: the fd number no longer names our file */
  [kIsStale](): boolean {
    return this.#isStale();
  }

  /** The fd number no longer names the file this handle registered. */
  #isStale(): boolean {
    if (this.#closed) return true;
    try {
      const [dev, ino] = this.#native.fdStat(this.fd);
      return dev !== this.#dev || ino !== this.#ino;
    } catch {
      return true;
    }
  }

  /** Resolves when the fd is readable (or at EOF/error). */
  readable(options?: WaitOptions): Promise<void> {
    return this.#readiness(R, options);
  }

  /** Resolves when the fd is writable (or has an error). */
  writable(options?: WaitOptions): Promise<void> {
    return this.#readiness(W, options);
  }

  /** Resolves when priority (out-of-band) data is available. */
  priority(options?: WaitOptions): Promise<void> {
    try {
      if (!this.#reactor.poller.supportsPriority()) {
        throw codedError('ENOTSUP', `ENOTSUP: the ${this.#reactor.backend} backend cannot watch priority data here`);
      }
      if (this.#edge && !this.#priorityRegistered && !this.#closed) {
        this.#reactor.poller.modify(this.fd, this.key, { readable: true, writable: true, priority: true }, 'edge');
        this.#priorityRegistered = true;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#readiness(P, options);
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

  /** As {@link readWith}, waiting for writability. */
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

  /** Writes `buf` once there is room: bytes written (maybe fewer than asked). */
  write(buf: ArrayBufferView, options?: WaitOptions): Promise<number> {
    return this.#io(W, buf, options);
  }

  /** Pending waits on this handle keep the process alive (the default). */
  ref(): this {
    if (!this.#ref) {
      this.#ref = true;
      for (let i = 0; i < this.#pending; i++) this.#reactor.retain();
    }
    return this;
  }

  /** Pending waits on this handle no longer keep the process alive. */
  unref(): this {
    if (this.#ref) {
      this.#ref = false;
      for (let i = 0; i < this.#pending; i++) this.#reactor.release();
    }
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Deregisters the fd, rejects pending waits with `ERR_ASYNC_CLOSED`, and
   * closes the fd if the handle owns it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const reactor = this.#reactor;
    reactor.detach(this.key);
    // A newer handle on a reused fd number owns the registration now.
    const holder = reactor.byFd.get(this.fd) === this;
    if (holder) reactor.byFd.delete(this.fd);
    try {
      if (holder) reactor.poller.delete(this.fd);
    } catch (error) {
      // The fd was closed behind our back: the kernel already forgot it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EBADF' && code !== 'ENOENT' && code !== 'ERR_POLLER_CLOSED') throw error;
    } finally {
      this[kOnFailure](codedError('ERR_ASYNC_CLOSED', 'The Async handle was closed'));
      if (this.#ownsFd) {
        this.#reactor.own(this.fd, false);
        backendModule().close(this.fd);
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
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
    if ((this.#blocked & bit) === 0 && signal === undefined && !this.#closed) {
      let result: T | null;
      try {
        result = op();
      } catch (error) {
        if (!wouldBlock(error)) return Promise.reject(error);
        result = null;
      }
      if (result !== null) return Promise.resolve(result);
      this.#wouldBlock(bit);
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
        if (signal?.aborted) return reject(abortError(signal));
        let result: T | null;
        try {
          result = attempt();
        } catch (error) {
          if (!wouldBlock(error)) return reject(error);
          result = null;
        }
        if (result !== null) return resolve(result);
        this.#wouldBlock(bit);
        this.#enqueue(bit, step, reject, signal);
      };
      if (waitFirst) this.#enqueue(bit, step, reject, signal);
      else step();
    });
  }

  /** op said EAGAIN: edge mode remembers it until the kernel's next edge. */
  #wouldBlock(bit: number): void {
    this.#ready &= ~bit;
    if (this.#edge) this.#blocked |= bit;
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
      const n = bit === R ? native.read(fd, buf) : native.write(fd, buf);
      // A short read/write on a stream fd: drained/full until the next edge
      // (after a hangup no edge will come: EOF or the error is what is next).
      if (n !== null && stream && n > 0 && n < buf.byteLength && !this.#hungUp) this.#wouldBlock(bit);
      return n;
    };
    // Known to block (EAGAIN or a short stream read seen): wait first.
    return this.#op(bit, attempt, signal, (this.#blocked & bit) !== 0);
  }

  #readiness(bit: number, options: WaitOptions | undefined): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = checkOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#edge && (this.#ready & bit) !== 0 && !this.#closed && !signal?.aborted) {
      // Cached readiness may be stale if the caller drained the fd itself:
      // confirm with one poll(0) instead of trusting it.
      const now = this.#native.fdReadiness(this.fd);
      if ((now & (bit | FLAG_HANGUP | FLAG_ERROR)) !== 0) return Promise.resolve();
      this.#wouldBlock(bit);
    }
    return this.#wait(bit, signal);
  }

  #wait(bit: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => this.#enqueue(bit, resolve, reject, signal));
  }

  /** Queues a waiter for `bit`; `resolve` runs when an event brings it. */
  #enqueue(bit: number, resolve: () => void, reject: (error: Error) => void, signal: AbortSignal | undefined): void {
    if (this.#closed) return reject(closedError());
    if (signal?.aborted) return reject(abortError(signal));
    const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
    const slot = bit >> 1;
    if (signal) {
      waiter.onAbort = () => {
        if (this.#remove(slot, waiter)) {
          this.#settled();
          reject(abortError(signal));
        }
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    if (slot === 0 ? this.#w0 === null : slot === 1 ? this.#w1 === null : this.#w2 === null) {
      if (slot === 0) this.#w0 = waiter;
      else if (slot === 1) this.#w1 = waiter;
      else this.#w2 = waiter;
    } else {
      (this.#more ??= [[], [], []])[slot]!.push(waiter);
    }
    this.#pending++;
    if (this.#ref) this.#reactor.retain();
    if (!this.#edge) this.#arm();
  }

  #remove(slot: number, waiter: Waiter): boolean {
    if (slot === 0 && this.#w0 === waiter) this.#w0 = this.#more?.[0].shift() ?? null;
    else if (slot === 1 && this.#w1 === waiter) this.#w1 = this.#more?.[1].shift() ?? null;
    else if (slot === 2 && this.#w2 === waiter) this.#w2 = this.#more?.[2].shift() ?? null;
    else {
      const list = this.#more?.[slot];
      const i = list ? list.indexOf(waiter) : -1;
      if (i < 0) return false;
      list!.splice(i, 1);
    }
    return true;
  }

  #settled(): void {
    this.#pending--;
    if (this.#ref) this.#reactor.release();
  }

  /** oneshot mode: arm the kernel for what the waiters want. */
  #arm(): void {
    const want = (this.#w0 ? R : 0) | (this.#w1 ? W : 0) | (this.#w2 ? P : 0);
    if (want === 0 || (this.#armed & want) === want) return;
    this.#reactor.poller.modify(
      this.fd,
      this.key,
      { readable: (want & R) !== 0, writable: (want & W) !== 0, priority: (want & P) !== 0 },
      'oneshot',
    );
    this.#armed = want;
  }

  #take(slot: number): Waiter[] | Waiter | null {
    let first: Waiter | null;
    if (slot === 0) (first = this.#w0), (this.#w0 = null);
    else if (slot === 1) (first = this.#w1), (this.#w1 = null);
    else (first = this.#w2), (this.#w2 = null);
    const more = this.#more?.[slot];
    if (first === null || more === undefined || more.length === 0) return first;
    const all = [first, ...more];
    more.length = 0;
    return all;
  }

  #wake(slot: number, error: Error | null): void {
    const taken = this.#take(slot);
    if (taken === null) return;
    if (Array.isArray(taken)) for (const w of taken) this.#settle(w, error);
    else this.#settle(taken, error);
  }

  #settle(w: Waiter, error: Error | null): void {
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
    // Settle before counting down: a retrying op re-queues inside resolve(),
    // and the reactor's ref count then never touches zero in between.
    try {
      if (error === null) w.resolve();
      else w.reject(error);
    } finally {
      this.#settled();
    }
  }

  /** @internal the reactor delivers an event (FLAG_* bits) */
  [kOnEvent](flags: number): void {
    // Hangup and error wake every waiter: their next op reports EOF or the error.
    const bits = flags & (FLAG_HANGUP | FLAG_ERROR) ? ALL : flags & ALL;
    if (flags & (FLAG_HANGUP | FLAG_ERROR)) this.#hungUp = true; // see #io: the last edge has come
    if (this.#edge) {
      this.#ready |= bits;
      this.#blocked &= ~bits;
    } else {
      this.#armed = 0;
    }
    if (bits & R) this.#wake(0, null);
    if (bits & W) this.#wake(1, null);
    if (bits & P) this.#wake(2, null);
    if (!this.#edge && !this.#closed && this.#pending > 0) this.#arm();
  }

  /** @internal reject every pending wait */
  [kOnFailure](error: Error): void {
    this.#wake(0, error);
    this.#wake(1, error);
    this.#wake(2, error);
  }
}
