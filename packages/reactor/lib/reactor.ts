import { debuglog, getSystemErrorName } from 'node:util';
import type { BackendName, DriverName, Interest, Poller, PollMode } from '@async-io/backend-core';
import {
  type BackendModule,
  backendRow,
  codedError,
  invalidArgType,
  invalidArgValue,
  type NativeAddon,
  type NativeHandle,
  DRIVER_NAMES,
  driverName,
  type ReactorHandle,
  systemError,
} from '@async-io/backend-core/internal';
import { detectRuntime } from './runtime.js';
import { type Attempt, type Selection, selectBackend } from './select.js';

/*
 * The public `Reactor` is a thin face over `ReactorCore`, which the package
 * does not export: declarations marked @internal are stripped from the .d.ts.
 * The seam for anything that watches an fd through the reactor (Async, and
 * any other kind of source):
 *
 *   const core = reactorCore();                          // this thread's reactor
 *   const key = core.register(source, fd, interest, mode);
 *   core.modify(fd, key, interest, mode);                // change interest, re-arm a oneshot
 *   core.retain(); core.release();                       // a ref'd wait started / ended
 *   core.own(fd, true);                                  // closed at env teardown unless disowned
 *   core.deregister(fd, key);                            // events in flight for `key` are dropped
 *
 * `source` implements Source: the reactor calls `source[kOnEvent](flags)`
 * for each event (FLAG_* bits of backend-core, straight from the batch: no
 * object per event) and `source[kOnFailure](error)` once if the poller fails
 * for good. An fd closed (or closed and its number reused) behind a source's
 * back is the front's to find (backend-core's front.c keeps the identity
 * rule): the source's last event then carries `gone`, its key is already
 * free, and a newcomer on the number registers as if the fd were new. Which
 * modes the backend has: `core.poller.supportsEdge()` and friends.
 *
 * Keep all of it out of public declarations: a public type that mentions an
 * @internal one leaves the stripped .d.ts broken (test/surface.test.ts).
 */

const debug = debuglog('async-io');

const BATCH = 1024;

/** Called with an event's flags word (FLAG_* bits). @internal */
export const kOnEvent = Symbol('async-io.onEvent');
/** Called when the reactor failed for good. @internal */
export const kOnFailure = Symbol('async-io.onFailure');

/** What the reactor needs of a registered source. @internal */
export interface Source {
  [kOnEvent](flags: number): void;
  [kOnFailure](error: Error): void;
}

/** How often registrations are looked at for fds closed behind their back (see sweep()). */
const SWEEP_MS = 1000;

// A key is a slot (low 20 bits) and a generation (high 12 bits). Slots are
// reused, generations are not (until they wrap), so an event still in flight
// for a closed handle never reaches the next handle in its slot.
/** An always-ready registration: the directions armed (1 readable, 2 writable) and how it re-arms. */
interface AlwaysReady {
  bits: number;
  mode: PollMode;
  scheduled: boolean;
}

const isDevice = (kind: string): boolean => kind === 'char' || kind === 'tty';

interface Immediate {
  ref?: () => void;
  unref?: () => void;
}

/**
 * Runs `fn` on the next loop turn; unref'd unless `ref`. A ref'd immediate
 * also keeps libuv from blocking in its poll phase, which an unref'd one does
 * not: an always-ready event due while a wait is pending must be ref'd or it
 * waits for something unrelated to wake the loop.
 */
function immediate(fn: () => void, ref: boolean): Immediate {
  const handle = (typeof setImmediate === 'function' ? setImmediate(fn) : setTimeout(fn, 0)) as Immediate;
  if (!ref) handle.unref?.();
  return handle;
}

const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const MAX_GENERATION = 0xffe; // keeps every key below the reserved 2^32-1

type DriverOption = 'auto' | DriverName;
let configured: DriverOption = 'auto';
let selection: Selection | null = null;
let core: ReactorCore | null = null;
let facade: Reactor | null = null;

function backend(): Selection {
  selection ??= selectBackend();
  return selection;
}

/** The selected backend's module (loads it on first call). @internal */
export function backendModule(): BackendModule {
  return backend().module;
}

/** The calling thread's reactor, created (and its backend chosen) on first use. @internal */
export function reactorCore(): ReactorCore {
  core ??= new ReactorCore(backend().module, configured);
  return core;
}

/**
 * Chooses how the reactor is driven; call before its first use.
 * `'auto'` (default) decides by evidence: with a kernel poller fd, a start-up
 * probe asks a second poller of the same kind whether it sees the reactor's fd
 * turn readable, and nests where it does; `thread` otherwise (on poll, and
 * under Bun and Deno, which have no libuv to nest in).
 * `'external'` drives nothing: you
 * watch `reactorFd()` and call `Reactor.get().dispatch()`.
 *
 * @example configure({ driver: 'external' });
 */
export function configure(options: { driver?: DriverOption }): void {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const driver = options.driver ?? 'auto';
  if (driver !== 'auto' && !DRIVER_NAMES.includes(driver)) {
    throw invalidArgValue('options.driver', driver, "must be one of 'auto', 'nested', 'thread', 'external'");
  }
  if (core !== null) {
    throw codedError('ERR_ASYNC_IO_ALREADY_STARTED', 'configure() must be called before the reactor is first used');
  }
  configured = driver;
}

/**
 * The reactor of one thread (one Node environment): one kernel poller, the
 * sources registered with it, and the driver that takes its events. @internal
 */
export class ReactorCore {
  readonly backend: BackendName;
  readonly fd: number | null;
  /** The reactor's poller: the same kernel object, another reference. */
  readonly poller: Poller;
  readonly #native: NativeAddon;
  readonly #handle: ReactorHandle;
  readonly #pollerHandle: NativeHandle;
  #sideHandle: NativeHandle | null = null;
  #sweeper: ReturnType<typeof setInterval> | null = null;
  readonly #gone: number;
  readonly #batch = new Uint32Array(BATCH * 2);
  /** the fd of each batch entry, for the recheck of thread-captured events */
  readonly #batchFds = new Int32Array(BATCH);
  /** the fd of each batch entry to verify on the reactor's poller, and on the side path's (-1: skip) */
  readonly #verifyFds = new Int32Array(BATCH);
  readonly #verifySideFds = new Int32Array(BATCH);
  #driver: DriverName;
  /** Why this driver: the probe's answer, the backend, or configure(). */
  readonly driverReason: string;
  /**
   * The backend queues an fd's event with the readiness of the moment it
   * fired, not of the moment the wait returns it (its `caps.queued` bit: event
   * ports, port_associate(3C)), so its batches are rechecked on every driver.
   * epoll and kqueue re-poll a ready item when they report it.
   */
  readonly #queuedEvents: boolean;
  /** The side path's poller (see side.c): undefined until asked, null if none. */
  #side: Poller | null | undefined;
  readonly #adopt: BackendModule['adopt'];
  /** by slot: the registered source, and its key (slot + generation) or -1 when free */
  readonly #sources: (Source | undefined)[] = [];
  readonly #keys: number[] = [];
  /** by slot: the fd to recheck thread-captured readiness on, or -1 where poll() could consume an event */
  readonly #recheckFds: number[] = [];
  /** by slot: the fd registered */
  readonly #slotFds: number[] = [];
  /** by slot: the fd is the library's (closed by it, after delete): registered with `registrationFlags.owned` */
  readonly #owned: boolean[] = [];
  /** by slot: registered with the side path's poller, whose thread captures its events */
  readonly #onSide: boolean[] = [];
  readonly #generations: number[] = [];
  readonly #free: number[] = [];
  /** fd number -> key of the source holding its registration */
  readonly #byFd = new Map<number, number>();
  /**
   * by key: character devices the kernel refuses to poll though they are
   * always ready (epoll answers EPERM for /dev/null, /dev/zero, /dev/urandom;
   * poll, kqueue and event ports call them ready). Their events are made
   * here, as the other backends' would come: once per arm, or on every loop
   * turn for a level registration.
   */
  readonly #alwaysReady = new Map<number, AlwaysReady>();
  /** Their events scheduled: ref'd while a ref'd wait is pending (see immediate()). */
  readonly #alwaysDue = new Set<Immediate>();
  #refs = 0;
  #failure: Error | null = null;

  constructor(mod: BackendModule, option: DriverOption) {
    const row = backendRow(mod.native.name)!;
    if (option === 'nested' && !row.hasFd) {
      throw invalidArgValue('options.driver', option, `is not possible with the ${row.name} backend (it has no fd)`);
    }
    const runtime = detectRuntime();
    if (option === 'nested' && !runtime.libuv) {
      throw codedError(
        'ERR_ASYNC_IO_DRIVER',
        `The nested driver needs libuv, ${runtime.name === 'node' ? 'which ASYNC_IO_NO_LIBUV=1 turns off' : `which ${runtime.name} does not have`}: use 'thread' (or 'auto') or 'external'`,
      );
    }
    const native = mod.native;
    this.#native = native;
    // 'auto' with a kernel poller fd and libuv: the native side probes
    // whether a poller of the same kind sees ours turn readable, and nests
    // only if it does.
    const nestable = row.hasFd && runtime.libuv;
    const { drivers, reactorFlags, caps } = native.constants;
    const code = option !== 'auto' ? drivers[option] : nestable ? drivers.auto : drivers.thread;
    this.#handle = native.reactorCreate(code, this.#onBatch, this.#batch, runtime.libuv ? 0 : reactorFlags.napiOnly);
    const driver = driverName(native.constants, native.reactorDriver(this.#handle));
    this.#driver = driver;
    const probe = native.reactorProbe(this.#handle);
    this.driverReason =
      option !== 'auto'
        ? `configure({ driver: '${option}' })`
        : !row.hasFd
          ? `the ${row.name} backend has no fd to nest: thread`
          : !runtime.libuv
            ? `${runtime.name} has no libuv to nest in: thread`
          : probe === 1
            ? `probe: a second ${row.name} poller saw the reactor's fd turn readable: nested`
            : probe === 0
              ? `probe: a second ${row.name} poller did not see the reactor's fd turn readable: thread`
              : `probe failed (${getSystemErrorName(probe)}): thread`;
    this.#adopt = mod.adopt;
    this.#pollerHandle = native.reactorPoller(this.#handle);
    this.poller = mod.adopt(this.#pollerHandle);
    this.#gone = native.constants.flags.gone;
    this.backend = row.name;
    this.#queuedEvents = (native.caps & caps.queued) !== 0;
    // A dup of the poller's fd: closing or misusing it cannot break the
    // reactor (or make libuv abort on a watched fd that vanished).
    const fd = native.reactorFd(this.#handle);
    this.fd = fd < 0 ? null : fd;
    debug('reactor: backend %s, driver %s (%s), fd %s, runtime %s %s', this.backend, driver, this.driverReason, this.fd, runtime.name, runtime.version);
  }

  get driver(): DriverName {
    return this.#driver;
  }

  dispatch(): number {
    if (this.#driver === 'thread') {
      throw codedError('ERR_ASYNC_IO_DRIVER', 'dispatch() is not available with the thread driver');
    }
    let total = 0;
    for (;;) {
      const n = this.#native.reactorDispatch(this.#handle);
      this.#recheck(n, false);
      this.#deliver(n);
      total += n;
      if (n < BATCH) return total;
    }
  }

  /**
   * Registers `source` for `fd` and returns its key. The fd is refused
   * (EEXIST) while another live source holds the file it names; a holder
   * whose fd was closed behind its back (the number now names another file)
   * is told it is gone, by the front. `recheck`: false where asking poll()
   * about the fd could consume an event (procfs and sysfs files).
   */
  register(source: Source, fd: number, interest: Interest, mode: PollMode, recheck = true, owned = false): number {
    const key = this.#newKey();
    try {
      try {
        this.#ctl('add', this.#pollerHandle, fd, key, interest, mode, owned);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPERM' && isDevice(this.#native.fdKind(fd))) {
          this.#alwaysReady.set(key, { bits: 0, mode, scheduled: false });
          this.#armAlwaysReady(key, interest, mode);
        } else {
          throw error;
        }
      }
    } catch (error) {
      this.#free.push(key & SLOT_MASK);
      throw error;
    }
    const slot = key & SLOT_MASK;
    this.#sources[slot] = source;
    this.#keys[slot] = key;
    this.#recheckFds[slot] = recheck ? fd : -1;
    this.#slotFds[slot] = fd;
    this.#owned[slot] = owned;
    this.#onSide[slot] = false;
    this.#byFd.set(fd, key);
    this.#sweeper ??= this.#startSweeping();
    return key;
  }

  /**
   * While anything is registered: an fd closed behind its source's back
   * with its number not reused raises nothing in epoll, kqueue or event
   * ports, so a wait pending on it would never settle. The front's sweep
   * finds those (one fstat per registration) and reports them gone. An
   * unref'd timer: it never keeps the process alive.
   */
  #startSweeping(): ReturnType<typeof setInterval> {
    const timer = setInterval(() => this.sweep(), SWEEP_MS);
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  /** Reports every registration whose fd was closed or reused behind its back; how many. */
  sweep(): number {
    if (this.#failure) return 0;
    let found = this.#native.sweep(this.#pollerHandle);
    if (this.#sideHandle) found += this.#native.sweep(this.#sideHandle);
    if (this.#byFd.size === 0 && this.#alwaysReady.size === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
    return found;
  }

  /**
   * Moves `fd`'s registration from `key` to a fresh key, watched for
   * `interest` (events still in flight for `key` are dropped): a watcher
   * restarted within a batch hears nothing of the batch it stopped in.
   */
  rekey(source: Source, fd: number, key: number, interest: Interest, mode: PollMode): number {
    const next = this.#newKey();
    const slot = key & SLOT_MASK;
    const nslot = next & SLOT_MASK;
    const always = this.#alwaysReady.get(key);
    if (always !== undefined) {
      this.#alwaysReady.delete(key);
      this.#alwaysReady.set(next, { bits: 0, mode, scheduled: false });
    } else {
      try {
        this.#ctl('modify', this.#handleOf(key), fd, next, interest, mode, this.#owned[slot] === true);
      } catch (error) {
        this.#free.push(nslot);
        throw error;
      }
    }
    this.#sources[nslot] = source;
    this.#keys[nslot] = next;
    this.#recheckFds[nslot] = this.#recheckFds[slot] ?? fd;
    this.#slotFds[nslot] = fd;
    this.#owned[nslot] = this.#owned[slot] === true;
    this.#onSide[nslot] = this.#keys[slot] === key && this.#onSide[slot] === true;
    if (this.#keys[slot] === key) {
      this.#sources[slot] = undefined;
      this.#keys[slot] = -1;
      this.#free.push(slot);
    }
    if (this.#byFd.get(fd) === key) this.#byFd.set(fd, next);
    if (always !== undefined) this.#armAlwaysReady(next, interest, mode);
    return next;
  }

  /** Changes what `fd` (registered under `key`) is watched for; re-arms a oneshot. */
  modify(fd: number, key: number, interest: Interest, mode: PollMode): void {
    if (this.#alwaysReady.has(key)) return this.#armAlwaysReady(key, interest, mode);
    this.#ctl('modify', this.#handleOf(key), fd, key, interest, mode, this.#owned[key & SLOT_MASK] === true);
  }

  /** An always-ready registration (see #alwaysReady) armed for `interest`: its event comes on the next loop turn. */
  #armAlwaysReady(key: number, interest: Interest, mode: PollMode): void {
    const entry = this.#alwaysReady.get(key)!;
    entry.bits = (interest.readable ? 1 : 0) | (interest.writable ? 2 : 0);
    entry.mode = mode;
    if (entry.bits === 0 || entry.scheduled) return;
    entry.scheduled = true;
    const handle = immediate(() => {
      this.#alwaysDue.delete(handle);
      entry.scheduled = false;
      const slot = key & SLOT_MASK;
      if (this.#alwaysReady.get(key) !== entry || this.#keys[slot] !== key || entry.bits === 0) return;
      const bits = entry.bits;
      if (entry.mode === 'oneshot' || entry.mode === 'edge-oneshot') entry.bits = 0;
      this.#sources[slot]![kOnEvent](bits);
      // Level: ready again on the next turn, as long as it stays armed.
      if (entry.mode === 'level' && this.#alwaysReady.get(key) === entry) {
        this.#armAlwaysReady(key, { readable: (entry.bits & 1) !== 0, writable: (entry.bits & 2) !== 0 }, entry.mode);
      }
    }, this.#refs > 0);
    this.#alwaysDue.add(handle);
  }

  /**
   * `fd` (under `key`) is about to be waited on for priority, registered
   * anew for `interest`. While another loop polls this reactor's fd (nested,
   * external), a file that reports a change once (/proc/self/mountinfo)
   * would show it to that loop's poll, not to ours: the registration moves
   * to the side path's poller, which only its own thread waits on (side.c).
   * Returns whether it moved.
   */
  watchPriority(fd: number, key: number, interest: Interest, mode: PollMode): boolean {
    if (this.#alwaysReady.has(key)) {
      this.#armAlwaysReady(key, interest, mode);
      return false;
    }
    const side = this.#sidePoller();
    const slot = key & SLOT_MASK;
    if (side === null || this.#onSide[slot] || this.#keys[slot] !== key) {
      this.#ctl('modify', this.#handleOf(key), fd, key, interest, mode, this.#owned[slot] === true);
      return false;
    }
    const owned = this.#owned[slot] === true;
    this.#native.delete(this.#pollerHandle, fd);
    try {
      this.#ctl('add', this.#sideHandle!, fd, key, interest, mode, owned);
    } catch (error) {
      // Refused (kqueue has no priority filter for some files): the fd stays
      // registered as it was.
      this.#ctl('add', this.#pollerHandle, fd, key, interest.priority ? { ...interest, priority: false } : interest, mode, owned);
      throw error;
    }
    this.#onSide[slot] = true;
    return true;
  }

  /** The poller handle `key` is registered with: the side path's, or the reactor's. */
  #handleOf(key: number): NativeHandle {
    const slot = key & SLOT_MASK;
    return this.#keys[slot] === key && this.#onSide[slot] ? this.#sideHandle! : this.#pollerHandle;
  }

  /**
   * The reactor's own way into the addon: interest bits and mode numbers,
   * checked once by the front (backend-core's front.c), not again by the
   * public Poller; `owned` adds `registrationFlags.owned`.
   */
  #ctl(op: 'add' | 'modify', handle: NativeHandle, fd: number, key: number, interest: Interest, mode: PollMode, owned: boolean): void {
    const { flags, modes, registrationFlags } = this.#native.constants;
    const bits = (interest.readable ? flags.readable : 0) | (interest.writable ? flags.writable : 0) | (interest.priority ? flags.priority : 0);
    this.#native[op](handle, fd, key, bits, modes[mode] | (owned ? registrationFlags.owned : 0));
  }

  #sidePoller(): Poller | null {
    if (this.#side === undefined) {
      const handle = this.#native.reactorSidePoller(this.#handle);
      this.#sideHandle = handle;
      this.#side = handle === null ? null : this.#adopt(handle);
    }
    return this.#side;
  }

  /**
   * Frees `key` (events still in flight for it are dropped) and deletes `fd`
   * from the poller unless a newer source holds it now. Never throws: closing
   * never fails. An fd closed behind the source's back is already gone from
   * the kernel (EBADF, ENOENT), or its number names a file the kernel cannot
   * poll (epoll: EPERM); either way nothing of ours is left to delete.
   */
  deregister(fd: number, key: number): void {
    const slot = key & SLOT_MASK;
    const handle = this.#handleOf(key);
    if (this.#keys[slot] === key) {
      this.#sources[slot] = undefined;
      this.#keys[slot] = -1;
      this.#free.push(slot);
    }
    if (this.#alwaysReady.delete(key)) {
      if (this.#byFd.get(fd) === key) this.#byFd.delete(fd);
      return;
    }
    if (this.#byFd.get(fd) !== key) return;
    this.#byFd.delete(fd);
    try {
      this.#native.delete(handle, fd);
    } catch (error) {
      debug('reactor: delete of fd %d on close: %s', fd, (error as NodeJS.ErrnoException).code);
    }
  }

  /** A ref'd wait started: the loop stays alive while any is pending. */
  retain(): void {
    if (this.#refs++ === 0) {
      this.#native.reactorRef(this.#handle, true);
      for (const due of this.#alwaysDue) due.ref?.();
    }
  }

  /** A ref'd wait ended. */
  release(): void {
    if (--this.#refs === 0) {
      this.#native.reactorRef(this.#handle, false);
      for (const due of this.#alwaysDue) due.unref?.();
    }
  }

  /** `fd` is closed by Worker/env teardown unless disowned first. */
  own(fd: number, owned: boolean): void {
    this.#native.reactorOwn(this.#handle, fd, owned);
  }

  /** A pipe or socketpair whose fds are owned (closed at teardown) from birth. */
  ownedPair(kind: 'pipe' | 'socketpair'): [number, number] {
    return kind === 'pipe' ? this.#native.reactorPipe(this.#handle) : this.#native.reactorSocketpair(this.#handle);
  }

  #newKey(): number {
    if (this.#failure) throw this.#failure;
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#sources.length;
      if (slot > SLOT_MASK) throw codedError('ERR_ASYNC_IO_TOO_MANY', `more than ${SLOT_MASK + 1} handles on one reactor`);
      this.#sources.push(undefined);
      this.#keys.push(-1);
      this.#generations.push(0);
    }
    const generation = this.#generations[slot]!;
    this.#generations[slot] = generation === MAX_GENERATION ? 0 : generation + 1;
    return ((generation << SLOT_BITS) | slot) >>> 0;
  }

  #deliver(n: number): void {
    const batch = this.#batch;
    const sources = this.#sources;
    const keys = this.#keys;
    for (let i = 0; i < 2 * n; i += 2) {
      const key = batch[i]!;
      const slot = key & SLOT_MASK;
      if (keys[slot] !== key) continue;
      const flags = batch[i + 1]!;
      const source = sources[slot]!;
      if ((flags & this.#gone) !== 0) this.#forget(key);
      source[kOnEvent](flags);
    }
  }

  /** The front dropped `key`'s registration (gone): free the key, delete nothing. */
  #forget(key: number): void {
    const slot = key & SLOT_MASK;
    this.#sources[slot] = undefined;
    this.#keys[slot] = -1;
    this.#free.push(slot);
    const fd = this.#slotFds[slot]!;
    if (this.#byFd.get(fd) === key) this.#byFd.delete(fd);
  }

  /**
   * A batch captured on a helper thread (`captured`: the thread driver's
   * helper; entries of the side path) or queued by the kernel (event ports)
   * predates whatever JS ran since, which may have drained those fds (a
   * user's own read after readable()). Readable and writable are confirmed
   * against the fds' state now, in one poll() for the batch, so that no
   * stale edge resolves a wait; priority, hangup and error stay as reported.
   */
  #recheck(n: number, captured: boolean): void {
    const batch = this.#batch;
    const fds = this.#batchFds;
    const keys = this.#keys;
    const all = captured || this.#queuedEvents;
    if (n <= 0 || (!all && !this.#side)) return; // every event taken on this thread, fresh
    // The file first (an fd closed and its number reused since the batch was
    // taken makes the entry its registration's last, gone, not the new
    // file's readiness: aio_front_verify on the poller it came from), then
    // the readiness (one poll() for the batch).
    const main = this.#verifyFds;
    const side = this.#verifySideFds;
    let anyMain = false;
    let anySide = false;
    let any = false;
    for (let i = 0; i < n; i++) {
      const key = batch[2 * i]!;
      const slot = key & SLOT_MASK;
      const live = keys[slot] === key && (all || this.#onSide[slot] === true);
      const verify = live && this.#owned[slot] !== true ? this.#slotFds[slot]! : -1;
      const onSide = this.#onSide[slot] === true;
      main[i] = onSide ? -1 : verify;
      side[i] = onSide ? verify : -1;
      fds[i] = live ? this.#recheckFds[slot]! : -1;
      anyMain ||= main[i]! >= 0;
      anySide ||= side[i]! >= 0;
      any ||= fds[i]! >= 0;
    }
    if (anyMain) this.#native.verify(this.#pollerHandle, main, batch, n);
    if (anySide && this.#sideHandle) this.#native.verify(this.#sideHandle, side, batch, n);
    if (any) this.#native.recheck(fds, batch, n);
  }

  readonly #onBatch = (kind: number, value: number): void => {
    const batch = this.#native.constants.batch;
    switch (kind) {
      case batch.fresh:
      case batch.captured:
        this.#recheck(value, kind === batch.captured);
        return this.#deliver(value);
      case batch.driver:
        this.#driver = driverName(this.#native.constants, value);
        debug('reactor: the nested driver kept waking with nothing to dispatch; switched to the %s driver', this.#driver);
        return;
    }
    const code = getSystemErrorName(value);
    this.#failure = systemError(code, value, 'reactor', 'the reactor poller failed');
    for (const source of this.#sources) source?.[kOnFailure](this.#failure);
  };
}

/**
 * The reactor: one per thread (per Node environment), created on first use.
 * It owns one kernel poller and wakes the `Async` handles registered with it.
 *
 * @example
 * const reactor = Reactor.get();
 * console.log(reactor.backend, reactor.fd, reactor.driver); // 'epoll' 23 'nested'
 */
export class Reactor {
  /** The backend serving this process (`'epoll'`, `'kqueue'`, `'event-ports'` or `'poll'`). */
  readonly backend: BackendName;
  /** The kernel poller's fd (epoll/kqueue/port), `null` on poll. */
  readonly fd: number | null;
  readonly #core: ReactorCore;

  /**
   * The reactor of the calling thread, created (and its backend chosen) on first use.
   *
   * @example const reactor = Reactor.get(); // the same object on every call in this thread
   */
  static get(): Reactor {
    facade ??= new Reactor(reactorCore());
    return facade;
  }

  private constructor(core: ReactorCore) {
    this.#core = core;
    this.backend = core.backend;
    this.fd = core.fd;
  }

  /**
   * `'nested'`, `'thread'` or `'external'` (a nested driver may switch itself to thread).
   *
   * @example if (Reactor.get().driver === 'external') Reactor.get().dispatch();
   */
  get driver(): DriverName {
    return this.#core.driver;
  }

  /**
   * Takes the events ready now without blocking, wakes their waiters and
   * returns how many there were. For the `external` driver (and allowed with
   * `nested`, which runs on this thread too).
   *
   * @example if (reactorFdIsReadable) Reactor.get().dispatch();
   */
  dispatch(): number {
    return this.#core.dispatch();
  }
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
  /** why this driver: the start-up probe's answer, the backend, or configure() */
  driverReason: string;
  capabilities: { level: boolean; edge: boolean; priority: boolean };
  reason: string;
  tried: Attempt[];
}

/**
 * Which backend serves this process and why (creates the reactor if needed).
 *
 * @example console.log(backendInfo().name); // 'epoll'
 */
export function backendInfo(): BackendInfo {
  const sel = backend();
  const reactor = reactorCore();
  const p = reactor.poller;
  return {
    name: sel.name,
    package: sel.package,
    version: sel.version,
    file: sel.module.binary.file,
    prebuilt: sel.module.binary.prebuilt,
    fd: reactor.fd,
    driver: reactor.driver,
    driverReason: reactor.driverReason,
    capabilities: { level: p.supportsLevel(), edge: p.supportsEdge(), priority: p.supportsPriority() },
    reason: sel.reason,
    tried: sel.tried,
  };
}
