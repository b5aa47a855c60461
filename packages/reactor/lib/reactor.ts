import { debuglog, getSystemErrorName } from 'node:util';
import {
  type BackendModule,
  type BackendName,
  backendRow,
  codedError,
  type DriverName,
  invalidArgType,
  invalidArgValue,
  type Poller,
  systemError,
} from '@async-io/backend-core';
import { type Selection, selectBackend } from './select.js';

const debug = debuglog('async-io');

const DRIVERS: readonly DriverName[] = ['nested', 'thread', 'external'];
const BATCH = 1024;

/** Called with an event's flags word (FLAG_* bits). @internal */
export const kOnEvent = Symbol('async-io.onEvent');
/** Called when the reactor failed for good. @internal */
export const kOnFailure = Symbol('async-io.onFailure');

/** True when a handle's fd number no longer names the file it registered. @internal */
export const kIsStale = Symbol('async-io.isStale'); // shared by Async and Watcher (fd-number reuse)

/** What the reactor needs of a registered handle (implemented by Async and Watcher). */
export interface Source {
  readonly key: number;
  [kOnEvent](flags: number): void;
  [kOnFailure](error: Error): void;
  [kIsStale](): boolean; // shared by Async and Watcher (fd-number reuse)
}

// A key is a slot (low 20 bits) and a generation (high 12 bits). Slots are
// reused, generations are not (until they wrap), so an event still in flight
// for a closed handle never reaches the next handle in its slot.
const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const MAX_GENERATION = 0xffe; // keeps every key below the reserved 2^32-1

type DriverOption = 'auto' | DriverName;
let configured: DriverOption = 'auto';
let selection: Selection | null = null;
let current: Reactor | null = null;

function backend(): Selection {
  selection ??= selectBackend();
  return selection;
}

/** The selected backend's module (loads it on first call). @internal */
export function backendModule(): BackendModule {
  return backend().module;
}

/** @internal */
export function backendSelection(): Selection {
  return backend();
}

/**
 * Chooses how the reactor is driven; call before its first use.
 * `'auto'` (default) takes the backend's own driver: `nested` for epoll and
 * event ports, `thread` for kqueue and poll. `'external'` drives nothing: you
 * watch `reactorFd()` and call `Reactor.get().dispatch()`.
 *
 * @example configure({ driver: 'external' });
 */
export function configure(options: { driver?: DriverOption }): void {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const driver = options.driver ?? 'auto';
  if (driver !== 'auto' && !DRIVERS.includes(driver)) {
    throw invalidArgValue('options.driver', driver, "must be one of 'auto', 'nested', 'thread', 'external'");
  }
  if (current !== null) {
    throw codedError('ERR_ASYNC_IO_ALREADY_STARTED', 'configure() must be called before the reactor is first used');
  }
  configured = driver;
}

/**
 * The reactor: one per thread (per Node environment), created on first use.
 * It owns one kernel poller and wakes the `Async` handles registered with it.
 */
export class Reactor {
  readonly backend: BackendName;
  /** The kernel poller's fd (epoll/kqueue/port), `null` on poll. */
  readonly fd: number | null;
  #driver: DriverName;
  readonly #native: BackendModule['native'];
  readonly #handle: unknown;
  readonly #batch = new Uint32Array(BATCH * 2);
  /** @internal */
  readonly poller: Poller;
  readonly #sources: (Source | undefined)[] = [];
  readonly #generations: number[] = [];
  readonly #free: number[] = [];
  /** which live handle holds each fd number's registration @internal */
  readonly byFd = new Map<number, Source>();
  #refs = 0;
  #failure: Error | null = null;

  /** The reactor of the calling thread, created (and its backend chosen) on first use. */
  static get(): Reactor {
    current ??= new Reactor(backend().module, configured);
    return current;
  }

  private constructor(mod: BackendModule, option: DriverOption) {
    const row = backendRow(mod.native.name)!;
    const driver: DriverName = option === 'auto' ? row.driver : option;
    if (driver === 'nested' && !row.hasFd) {
      throw invalidArgValue('options.driver', driver, `is not possible with the ${row.name} backend (it has no fd)`);
    }
    this.#native = mod.native;
    const native = this.#native as unknown as ReactorNative;
    this.#handle = native.reactorCreate(DRIVERS.indexOf(driver), this.#onBatch, this.#batch);
    this.#driver = driver;
    const PollerFromHandle = mod.Poller as unknown as new (handle: unknown) => Poller;
    this.poller = new PollerFromHandle(native.reactorPoller(this.#handle));
    this.backend = row.name;
    // A dup of the poller's fd: closing or misusing it cannot break the
    // reactor (or make libuv abort on a watched fd that vanished).
    const fd = native.reactorFd(this.#handle);
    this.fd = fd < 0 ? null : fd;
    debug('reactor: backend %s, driver %s, fd %s', this.backend, driver, this.fd);
  }

  /** `'nested'`, `'thread'` or `'external'` (a nested driver may switch itself to thread). */
  get driver(): DriverName {
    return this.#driver;
  }

  /**
   * Takes the events ready now without blocking, wakes their waiters and
   * returns how many there were. For the `external` driver (and allowed with
   * `nested`, which runs on this thread too).
   *
   * @example if (reactorFdIsReadable) Reactor.get().dispatch();
   */
  dispatch(): number {
    if (this.#driver === 'thread') {
      throw codedError('ERR_ASYNC_IO_DRIVER', 'dispatch() is not available with the thread driver');
    }
    const native = this.#native as unknown as ReactorNative;
    let total = 0;
    for (;;) {
      const n = native.reactorDispatch(this.#handle);
      this.#deliver(n);
      total += n;
      if (n < BATCH) return total;
    }
  }

  /** @internal a fresh key for a new source; bind it with {@link attach} */
  newKey(): number {
    if (this.#failure) throw this.#failure;
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#sources.length;
      if (slot > SLOT_MASK) throw codedError('ERR_ASYNC_IO_TOO_MANY', `more than ${SLOT_MASK + 1} handles on one reactor`);
      this.#sources.push(undefined);
      this.#generations.push(0);
    }
    const generation = this.#generations[slot]!;
    this.#generations[slot] = generation === MAX_GENERATION ? 0 : generation + 1;
    return ((generation << SLOT_BITS) | slot) >>> 0;
  }

  /** @internal */
  attach(source: Source): void {
    this.#sources[source.key & SLOT_MASK] = source;
  }

  /** @internal frees the key; events still in flight for it are dropped */
  detach(key: number): void {
    const slot = key & SLOT_MASK;
    if (this.#sources[slot]?.key === key) this.#sources[slot] = undefined;
    this.#free.push(slot);
  }

  /** @internal a ref'd wait started / ended: the loop stays alive while any is pending */
  retain(): void {
    if (this.#refs++ === 0) (this.#native as unknown as ReactorNative).reactorRef(this.#handle, true);
  }

  /** @internal an fd closed by Worker/env teardown unless disowned first */
  own(fd: number, owned: boolean): void {
    (this.#native as unknown as ReactorNative).reactorOwn(this.#handle, fd, owned);
  }

  /** @internal a pipe/socketpair whose fds are owned (closed at teardown) from birth */
  ownedPair(kind: 'pipe' | 'socketpair'): [number, number] {
    const native = this.#native as unknown as ReactorNative;
    return kind === 'pipe' ? native.reactorPipe(this.#handle) : native.reactorSocketpair(this.#handle);
  }

  /** @internal */
  release(): void {
    if (--this.#refs === 0) (this.#native as unknown as ReactorNative).reactorRef(this.#handle, false);
  }

  #deliver(n: number): void {
    const batch = this.#batch;
    const sources = this.#sources;
    for (let i = 0; i < 2 * n; i += 2) {
      const key = batch[i]!;
      const source = sources[key & SLOT_MASK];
      if (source !== undefined && source.key === key) source[kOnEvent](batch[i + 1]!);
    }
  }

  readonly #onBatch = (n: number): void => {
    if (n > 0) return this.#deliver(n);
    if (n === -1) {
      this.#driver = 'thread';
      debug('reactor: the nested driver kept waking with nothing to dispatch; switched to the thread driver');
      return;
    }
    const code = getSystemErrorName(n);
    this.#failure = systemError(code, n, 'reactor', 'the reactor poller failed');
    for (const source of this.#sources) source?.[kOnFailure](this.#failure);
  };
}

interface ReactorNative {
  reactorCreate(driver: number, callback: (n: number) => void, batch: Uint32Array): unknown;
  reactorPoller(handle: unknown): unknown;
  reactorDispatch(handle: unknown): number;
  reactorRef(handle: unknown, on: boolean): void;
  reactorOwn(handle: unknown, fd: number, owned: boolean): void;
  reactorFd(handle: unknown): number;
  reactorPipe(handle: unknown): [number, number];
  reactorSocketpair(handle: unknown): [number, number];
}

/**
 * The reactor's kernel fd — epoll, kqueue or event port — or `null` on the
 * poll backend. Register it for readability in another event loop and call
 * `Reactor.get().dispatch()` when it fires (with `configure({ driver:
 * 'external' })`). Wait on it only: reading, closing or `epoll_ctl`-ing it
 * yourself is not supported.
 *
 * @example const fd = reactorFd(); // e.g. 23, or null with ASYNC_IO_BACKEND=poll
 */
export function reactorFd(): number | null {
  return Reactor.get().fd;
}

export interface BackendInfo {
  name: BackendName;
  package: string;
  version: string;
  file: string;
  prebuilt: boolean;
  fd: number | null;
  driver: DriverName;
  capabilities: { level: boolean; edge: boolean; priority: boolean };
  reason: string;
  tried: Selection['tried'];
}

/**
 * Which backend serves this process and why (creates the reactor if needed).
 *
 * @example console.log(backendInfo().name); // 'epoll'
 */
export function backendInfo(): BackendInfo {
  const sel = backend();
  const reactor = Reactor.get();
  const p = reactor.poller;
  return {
    name: sel.name,
    package: sel.package,
    version: sel.version,
    file: sel.module.binary.file,
    prebuilt: sel.module.binary.prebuilt,
    fd: reactor.fd,
    driver: reactor.driver,
    capabilities: { level: p.supportsLevel(), edge: p.supportsEdge(), priority: p.supportsPriority() },
    reason: sel.reason,
    tried: sel.tried,
  };
}
