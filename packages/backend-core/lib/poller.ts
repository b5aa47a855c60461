import { codedError, invalidArgType, invalidArgValue } from './errors.js';
import { Events, eventsBuffer, FLAG_PRIORITY, FLAG_READABLE, FLAG_WRITABLE } from './events.js';
import type { NativeAddon, NativeConstants, NativeHandle } from './native.js';
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

const INTEREST = [
  ['readable', FLAG_READABLE],
  ['writable', FLAG_WRITABLE],
  ['priority', FLAG_PRIORITY],
] as const;

/** Interest object → FLAG_READABLE|FLAG_WRITABLE|FLAG_PRIORITY bits (the addon's `constants.flags`). */
export function interestBits(interest: unknown): number {
  if (interest === null || typeof interest !== 'object') {
    throw invalidArgType('interest', 'of type object', interest);
  }
  let bits = 0;
  for (const [name, bit] of INTEREST) {
    const v = (interest as Record<string, unknown>)[name];
    if (v === undefined || v === false) continue;
    if (v !== true) throw invalidArgType(`interest.${name}`, 'of type boolean', v);
    bits |= bit;
  }
  return bits;
}

/** Mode name (default `'oneshot'`) → the addon's number for it (`constants.modes`). */
export function modeNumber(modes: NativeConstants['modes'], mode: unknown): number {
  if (mode === undefined) return modes.oneshot;
  if (!POLL_MODES.includes(mode as PollMode)) {
    if (typeof mode !== 'string') throw invalidArgType('mode', 'of type string', mode);
    throw invalidArgValue('mode', mode, `must be one of ${POLL_MODES.map((m) => `'${m}'`).join(', ')}`);
  }
  return modes[mode as PollMode];
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
  /**
   * Looks at the fd of every registration and reports each one closed (or
   * closed and its number reused) behind its back as a `gone` event at the
   * next wait, waking it; returns how many. epoll, kqueue and event ports
   * forget a closed fd in silence, so a wait for it would never end: call
   * this now and then (the facade's reactor does, every second) where fds
   * may be closed without `delete`. One fstat per registration.
   */
  sweep(): number;
  share(): SharedPoller;
  close(): void;
}

export interface PollerClass {
  /** Creates a poller with its own kernel object (close-on-exec). */
  new (): Poller;
  readonly prototype: Poller;
  /** Another reference, in this thread, to a poller shared from any thread. */
  fromShared(handle: SharedPoller): Poller;
}

/** A backend's `Poller` class and how to wrap a native handle (`native.reactorPoller(r)`) in it. */
export interface DefinedPoller {
  Poller: PollerClass;
  /** A `Poller` over a reference the addon made; it owns the reference from now on. */
  adopt(handle: NativeHandle): Poller;
}

const kHandle = Symbol('async-io.poller.handle');

/**
 * Turns a loaded backend addon into its `Poller` class. Argument checks live
 * here, once, for every backend; the addon re-checks types cheaply so that
 * misuse from outside can never crash the process.
 *
 * @example
 * const { Poller, adopt } = definePoller(require('node-gyp-build')(root));
 */
export function definePoller(addon: NativeAddon): DefinedPoller {
  const backend = addon.name;
  const caps = addon.caps;
  const { modes } = addon.constants;
  const { level: CAP_LEVEL, edge: CAP_EDGE, priority: CAP_PRIORITY } = addon.constants.caps;
  /** The handle the next `new BackendPoller()` takes over (set by adopt() only). */
  let adopting: NativeHandle | null = null;

  function closedError(): Error {
    return codedError('ERR_POLLER_CLOSED', 'The poller is closed');
  }

  class BackendPoller implements Poller {
    [kHandle]: NativeHandle | null;
    readonly backend: BackendName = backend;
    #fd: number | null;

    /** Creates a poller with its own kernel object (close-on-exec). */
    constructor(...args: unknown[]) {
      // A handle is adopted only through adopt(); an argument is an error
      // rather than ignored, as when the constructor took a handle.
      if (args.length > 0 && args[0] !== undefined) {
        throw invalidArgType('handle', 'undefined (new Poller() takes no argument)', args[0]);
      }
      const h = adopting ?? addon.create();
      adopting = null;
      this[kHandle] = h;
      const fd = addon.fd(h);
      this.#fd = fd < 0 ? null : fd;
    }

    static fromShared(shared: SharedPoller): Poller {
      if (shared === null || typeof shared !== 'object' || shared.kind !== 'async-io.shared-poller') {
        throw invalidArgType('handle', 'a value returned by poller.share()', shared);
      }
      if (shared.backend !== backend) {
        throw invalidArgValue('handle', shared.backend, `belongs to the ${shared.backend} backend, not ${backend}`);
      }
      return adopt(addon.fromShared(shared.id));
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
      addon.add(h, fd, key, interestBits(interest), modeNumber(modes, mode));
    }

    modify(fd: number, key: number, interest: Interest, mode?: PollMode): void {
      const h = this.#handle();
      validateFd(fd);
      validateKey(key);
      addon.modify(h, fd, key, interestBits(interest), modeNumber(modes, mode));
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

    sweep(): number {
      return addon.sweep(this.#handle());
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

  function adopt(handle: NativeHandle): Poller {
    adopting = handle;
    try {
      return new BackendPoller();
    } finally {
      adopting = null;
    }
  }

  Object.defineProperty(BackendPoller, 'name', { value: 'Poller' });
  return { Poller: BackendPoller, adopt };
}
