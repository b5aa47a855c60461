import {
  codedError,
  FLAG_ERROR,
  FLAG_HANGUP,
  FLAG_PRIORITY,
  FLAG_READABLE,
  FLAG_WRITABLE,
  invalidArgType,
  validateFd,
} from '@async-io/backend-core';
import { backendModule, Reactor, type Source } from './reactor.js';

const R = FLAG_READABLE;
const W = FLAG_WRITABLE;
const P = FLAG_PRIORITY;

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
  /** which waiter set it sits in */
  bit: number;
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
 * const n = await reader.readWith(() => read(r, buf)); // null from read() = would block
 */
export class Async implements Disposable {
  readonly fd: number;
  readonly #reactor: Reactor;
  readonly #key: number;
  readonly #ownsFd: boolean;
  readonly #edge: boolean;
  #closed = false;
  #ref = true;
  /** edge mode: readiness seen and not yet disproved by a would-block */
  #ready = 0;
  /** oneshot mode: the interest currently armed in the kernel */
  #armed = 0;
  #priorityRegistered = false;
  #pending = 0;
  readonly #waiters: [Set<Waiter>, Set<Waiter>, Set<Waiter>] = [new Set(), new Set(), new Set()];
  readonly #source: Source;

  constructor(fd: number, options: { ownsFd?: boolean } = {}) {
    validateFd(fd);
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    if (options.ownsFd !== undefined && typeof options.ownsFd !== 'boolean') {
      throw invalidArgType('options.ownsFd', 'of type boolean', options.ownsFd);
    }
    const reactor = Reactor.get();
    const mod = backendModule();
    mod.setNonblocking(fd);
    this.fd = fd;
    this.#reactor = reactor;
    this.#ownsFd = options.ownsFd ?? false;
    this.#edge = reactor.poller.supportsEdge();
    this.#source = {
      onEvent: (flags) => this.#onEvent(flags),
      onFailure: (error) => this.#rejectAll(error),
    };
    this.#key = reactor.attach(this.#source);
    try {
      if (this.#edge) reactor.poller.add(fd, this.#key, { readable: true, writable: true }, 'edge');
      else reactor.poller.add(fd, this.#key, {}, 'oneshot');
    } catch (error) {
      reactor.detach(this.#key);
      throw error;
    }
    if (this.#ownsFd) reactor.own(fd, true);
  }

  /** Resolves when the fd is readable (or at EOF/error). */
  readable(options?: WaitOptions): Promise<void> {
    return this.#ready_(R, options);
  }

  /** Resolves when the fd is writable (or has an error). */
  writable(options?: WaitOptions): Promise<void> {
    return this.#ready_(W, options);
  }

  /** Resolves when priority (out-of-band) data is available. */
  priority(options?: WaitOptions): Promise<void> {
    try {
      if (!this.#reactor.poller.supportsPriority()) {
        throw codedError('ENOTSUP', `ENOTSUP: the ${this.#reactor.backend} backend cannot watch priority data here`);
      }
      if (this.#edge && !this.#priorityRegistered && !this.#closed) {
        this.#reactor.poller.modify(this.fd, this.#key, { readable: true, writable: true, priority: true }, 'edge');
        this.#priorityRegistered = true;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#ready_(P, options);
  }

  /**
   * Calls `op` until it does not "would block": `op` signals that by
   * returning `null` (the fd helpers do) or throwing an EAGAIN/EWOULDBLOCK
   * error. Resolves with `op`'s result.
   *
   * @example const n = await handle.readWith(() => read(handle.fd, buf));
   */
  readWith<T>(op: () => T | null, options?: WaitOptions): Promise<T> {
    return this.#retry(R, op, options);
  }

  /** As {@link readWith}, waiting for writability. */
  writeWith<T>(op: () => T | null, options?: WaitOptions): Promise<T> {
    return this.#retry(W, op, options);
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
    this.#reactor.detach(this.#key);
    try {
      this.#reactor.poller.delete(this.fd);
    } catch (error) {
      // The fd was closed behind our back: the kernel already forgot it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EBADF' && code !== 'ENOENT' && code !== 'ERR_POLLER_CLOSED') throw error;
    } finally {
      this.#rejectAll(codedError('ERR_ASYNC_CLOSED', 'The Async handle was closed'));
      if (this.#ownsFd) {
        this.#reactor.own(this.fd, false);
        backendModule().close(this.fd);
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #retry<T>(bit: number, op: () => T | null, options: WaitOptions | undefined): Promise<T> {
    if (typeof op !== 'function') throw invalidArgType('op', 'of type function', op);
    const signal = checkOptions(options);
    for (;;) {
      if (this.#closed) throw codedError('ERR_ASYNC_CLOSED', 'The Async handle is closed');
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      let result: T | null;
      try {
        result = op();
      } catch (error) {
        if (!wouldBlock(error)) throw error;
        result = null;
      }
      if (result !== null) return result;
      this.#ready &= ~bit;
      await this.#wait(bit, signal);
    }
  }

  #ready_(bit: number, options: WaitOptions | undefined): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = checkOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#edge && (this.#ready & bit) !== 0 && !this.#closed && !signal?.aborted) {
      // Cached readiness may be stale if the caller drained the fd itself:
      // confirm with one poll(0) instead of trusting it.
      const now = backendModule().native.fdReadiness(this.fd);
      if ((now & (bit | FLAG_HANGUP | FLAG_ERROR)) !== 0) return Promise.resolve();
      this.#ready &= ~bit;
    }
    return this.#wait(bit, signal);
  }

  #wait(bit: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed) return Promise.reject(codedError('ERR_ASYNC_CLOSED', 'The Async handle is closed'));
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const set = this.#waiters[bit >> 1]!;
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, bit };
      if (signal) {
        waiter.onAbort = () => {
          if (set.delete(waiter)) {
            this.#settled();
            reject(new AbortError(undefined, { cause: signal.reason }));
          }
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      set.add(waiter);
      this.#pending++;
      if (this.#ref) this.#reactor.retain();
      if (!this.#edge) this.#arm();
    });
  }

  #settled(): void {
    this.#pending--;
    if (this.#ref) this.#reactor.release();
  }

  /** oneshot mode: arm the kernel for what the waiters want. */
  #arm(): void {
    let want = 0;
    if (this.#waiters[0].size) want |= R;
    if (this.#waiters[1].size) want |= W;
    if (this.#waiters[2].size) want |= P;
    if (want === 0 || (this.#armed & want) === want) return;
    this.#reactor.poller.modify(
      this.fd,
      this.#key,
      { readable: (want & R) !== 0, writable: (want & W) !== 0, priority: (want & P) !== 0 },
      'oneshot',
    );
    this.#armed = want;
  }

  #onEvent(flags: number): void {
    // Hangup and error wake every waiter: their next op reports EOF or the error.
    const bits = flags & (FLAG_HANGUP | FLAG_ERROR) ? R | W | P : flags & (R | W | P);
    if (this.#edge) this.#ready |= bits;
    else this.#armed = 0;
    for (let i = 0; i < 3; i++) {
      if ((bits & (1 << i)) === 0) continue;
      const set = this.#waiters[i]!;
      if (set.size === 0) continue;
      const waiters = [...set];
      set.clear();
      for (const w of waiters) {
        if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
        this.#settled();
        w.resolve();
      }
    }
    if (!this.#edge && !this.#closed) this.#arm();
  }

  #rejectAll(error: Error): void {
    for (const set of this.#waiters) {
      const waiters = [...set];
      set.clear();
      for (const w of waiters) {
        if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
        this.#settled();
        w.reject(error);
      }
    }
  }
}
