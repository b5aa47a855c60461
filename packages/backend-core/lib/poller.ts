import { codedError, invalidArgType, invalidArgValue } from './errors.js';
import { Events, eventsBuffer } from './events.js';
import { CAP_EDGE, CAP_LEVEL, CAP_PRIORITY, type NativeAddon, type NativeHandle } from './native.js';
import type { BackendName } from './table.js';
import { timeoutArg, validateFd, validateKey } from './validate.js';

export type PollMode = 'oneshot' | 'level' | 'edge' | 'edge-oneshot';

/** What to wait for. Hangup and error are always reported. */
export interface Interest {
  readable?: boolean;
  writable?: boolean;
  priority?: boolean;
}

/** A structured-cloneable token for {@link Poller.fromShared} in another thread. */
export interface SharedPoller {
  readonly kind: 'async-io.shared-poller';
  readonly backend: BackendName;
  readonly id: number;
}

export const POLL_MODES: readonly PollMode[] = ['oneshot', 'level', 'edge', 'edge-oneshot'];

const INTEREST_KEYS = ['readable', 'writable', 'priority'] as const;

/** Interest object → AIO_READABLE|AIO_WRITABLE|AIO_PRIORITY bits. */
export function interestBits(interest: unknown): number {
  if (interest === null || typeof interest !== 'object') {
    throw invalidArgType('interest', 'of type object', interest);
  }
  let bits = 0;
  for (let i = 0; i < INTEREST_KEYS.length; i++) {
    const name = INTEREST_KEYS[i]!;
    const v = (interest as Record<string, unknown>)[name];
    if (v === undefined || v === false) continue;
    if (v !== true) throw invalidArgType(`interest.${name}`, 'of type boolean', v);
    bits |= 1 << i;
  }
  return bits;
}

/** Mode name → AIO_MODE_* number. */
export function modeNumber(mode: unknown): number {
  if (mode === undefined) return 0;
  const n = POLL_MODES.indexOf(mode as PollMode);
  if (n < 0) {
    if (typeof mode !== 'string') throw invalidArgType('mode', 'of type string', mode);
    throw invalidArgValue('mode', mode, `must be one of ${POLL_MODES.map((m) => `'${m}'`).join(', ')}`);
  }
  return n;
}

/** The public shape of every backend's `Poller` class. */
export interface Poller extends Disposable {
  readonly backend: BackendName;
  readonly fd: number | null;
  readonly closed: boolean;
  supportsLevel(): boolean;
  supportsEdge(): boolean;
  supportsPriority(): boolean;
  add(fd: number, key: number, interest: Interest, mode?: PollMode): void;
  modify(fd: number, key: number, interest: Interest, mode?: PollMode): void;
  delete(fd: number): void;
  wait(events: Events, timeoutMs?: number | null): number;
  notify(): void;
  share(): SharedPoller;
  close(): void;
}

export interface PollerClass {
  /**
   * Creates a poller with its own kernel object, or, given a native handle
   * (`native.create()`, `native.reactorPoller(r)`), wraps that reference.
   */
  new (handle?: NativeHandle): Poller;
  readonly prototype: Poller;
  /** Another reference, in this thread, to a poller shared from any thread. */
  fromShared(handle: SharedPoller): Poller;
}

const kHandle = Symbol('async-io.poller.handle');

/**
 * Turns a loaded backend addon into its `Poller` class. Argument checks live
 * here, once, for every backend; the addon re-checks types cheaply so that
 * misuse from outside can never crash the process.
 *
 * @example
 * export const Poller = definePoller(require('node-gyp-build')(root));
 */
export function definePoller(addon: NativeAddon): PollerClass {
  const backend = addon.name;
  const caps = addon.caps;

  function closedError(): Error {
    return codedError('ERR_POLLER_CLOSED', 'The poller is closed');
  }

  class BackendPoller implements Poller {
    [kHandle]: NativeHandle | null;
    readonly backend: BackendName = backend;
    #fd: number | null;

    /** Creates a poller with its own kernel object (close-on-exec). */
    constructor(handle?: NativeHandle) {
      this[kHandle] = handle ?? addon.create();
      const fd = addon.fd(this[kHandle]);
      this.#fd = fd < 0 ? null : fd;
    }

    static fromShared(shared: SharedPoller): Poller {
      if (shared === null || typeof shared !== 'object' || shared.kind !== 'async-io.shared-poller') {
        throw invalidArgType('handle', 'a value returned by poller.share()', shared);
      }
      if (shared.backend !== backend) {
        throw invalidArgValue('handle', shared.backend, `belongs to the ${shared.backend} backend, not ${backend}`);
      }
      return new BackendPoller(addon.fromShared(shared.id));
    }

    /** The kernel poller's fd (epoll, kqueue, port); `null` for poll(). */
    get fd(): number | null {
      if (this[kHandle] === null) throw closedError();
      return this.#fd;
    }

    get closed(): boolean {
      return this[kHandle] === null;
    }

    supportsLevel(): boolean {
      return (caps & CAP_LEVEL) !== 0;
    }

    supportsEdge(): boolean {
      return (caps & CAP_EDGE) !== 0;
    }

    supportsPriority(): boolean {
      return (caps & CAP_PRIORITY) !== 0;
    }

    #handle(): NativeHandle {
      const h = this[kHandle];
      if (h === null) throw closedError();
      return h;
    }

    add(fd: number, key: number, interest: Interest, mode?: PollMode): void {
      const h = this.#handle();
      validateFd(fd);
      validateKey(key);
      addon.add(h, fd, key, interestBits(interest), modeNumber(mode));
    }

    modify(fd: number, key: number, interest: Interest, mode?: PollMode): void {
      const h = this.#handle();
      validateFd(fd);
      validateKey(key);
      addon.modify(h, fd, key, interestBits(interest), modeNumber(mode));
    }

    delete(fd: number): void {
      const h = this.#handle();
      validateFd(fd);
      addon.delete(h, fd);
    }

    wait(events: Events, timeoutMs?: number | null): number {
      const h = this.#handle();
      if (!(events instanceof Events)) throw invalidArgType('events', 'an instance of Events', events);
      Events._fill(events, 0);
      const n = addon.wait(h, eventsBuffer(events), timeoutArg(timeoutMs));
      Events._fill(events, n);
      return n;
    }

    notify(): void {
      addon.notify(this.#handle());
    }

    share(): SharedPoller {
      return { kind: 'async-io.shared-poller', backend, id: addon.shareId(this.#handle()) };
    }

    close(): void {
      const h = this[kHandle];
      if (h === null) return;
      this[kHandle] = null;
      addon.close(h);
    }

    [Symbol.dispose](): void {
      this.close();
    }
  }

  Object.defineProperty(BackendPoller, 'name', { value: 'Poller' });
  return BackendPoller;
}
