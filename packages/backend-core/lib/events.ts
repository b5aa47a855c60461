import { invalidArgType, outOfRange } from './errors.js';
import { validateInteger } from './validate.js';

/** Bits of the flags word the native side writes for each event. */
export const FLAG_READABLE = 0x01;
export const FLAG_WRITABLE = 0x02;
export const FLAG_PRIORITY = 0x04;
export const FLAG_HANGUP = 0x08;
export const FLAG_ERROR = 0x10;
export const FLAG_GONE = 0x20;

/** One readiness event, built on demand by {@link Events.at}. */
export interface PollEvent {
  readonly key: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly priority: boolean;
  readonly hangup: boolean;
  readonly error: boolean;
  /**
   * The fd was closed (or closed and its number reused) behind the
   * registration's back: the registration is gone, and this is its last
   * event (`error` is set too). Delete or re-add the fd; nothing else comes.
   */
  readonly gone: boolean;
}

export const MAX_EVENTS_CAPACITY = 1 << 20;

const kBuffer = Symbol('async-io.events.buffer');

/**
 * A reusable batch of events. `wait` clears it and fills it; nothing is
 * allocated per event unless you call {@link Events.at} or iterate.
 *
 * @example
 * const events = new Events(256);
 * const n = poller.wait(events, 100);
 * for (let i = 0; i < n; i++) if (events.readableAt(i)) handle(events.keyAt(i));
 */
export class Events implements Iterable<PollEvent> {
  /** @internal pairs of (key, flags), the layout of the C aio_event_t */
  readonly [kBuffer]: Uint32Array;
  #length = 0;

  constructor(capacity = 1024) {
    validateInteger(capacity, 'capacity', 1, MAX_EVENTS_CAPACITY);
    this[kBuffer] = new Uint32Array(capacity * 2);
  }

  get capacity(): number {
    return this[kBuffer].length >>> 1;
  }

  get length(): number {
    return this.#length;
  }

  /** Forgets every event (the next `wait` does this too). */
  clear(): void {
    this.#length = 0;
  }

  /** The key of event `i` with no allocation. */
  keyAt(i: number): number {
    return this[kBuffer][this.#index(i)]!;
  }

  /** The raw flags word of event `i` (`FLAG_*` bits) with no allocation. */
  flagsAt(i: number): number {
    return this[kBuffer][this.#index(i) + 1]!;
  }

  /** Event `i` as an object. */
  at(i: number): PollEvent {
    const at = this.#index(i);
    const flags = this[kBuffer][at + 1]!;
    return {
      key: this[kBuffer][at]!,
      readable: (flags & FLAG_READABLE) !== 0,
      writable: (flags & FLAG_WRITABLE) !== 0,
      priority: (flags & FLAG_PRIORITY) !== 0,
      hangup: (flags & FLAG_HANGUP) !== 0,
      error: (flags & FLAG_ERROR) !== 0,
      gone: (flags & FLAG_GONE) !== 0,
    };
  }

  *[Symbol.iterator](): Iterator<PollEvent> {
    for (let i = 0; i < this.#length; i++) yield this.at(i);
  }

  #index(i: number): number {
    if (typeof i !== 'number') throw invalidArgType('index', 'of type number', i);
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) {
      throw outOfRange('index', `an integer >= 0 && < ${this.#length}`, i);
    }
    return i * 2;
  }

  /** @internal used by Poller.wait */
  static _fill(events: Events, count: number): void {
    events.#length = count;
  }
}

/** @internal */
export function eventsBuffer(events: Events): Uint32Array {
  return events[kBuffer];
}
