import { refuseUnpollable } from './fdtype.js';
import { addAbortSignal, Duplex, Readable, Writable } from 'node:stream';
import {
  codedError,
  type FdKind,
  invalidArgType,
  invalidArgValue,
  validateFd,
  validateInteger,
} from '@async-io/backend-core/internal';
import { Async } from './async.js';
import { backendModule } from './reactor.js';

/** Bytes asked of each read() (in packet mode: the largest packet taken whole). */
const READ_SIZE = 64 * 1024;
/** Byte-mode writes queued meanwhile are merged up to this size into one write(). */
const MERGE_LIMIT = 64 * 1024;

export interface FdStreamOptions {
  /**
   * Given an fd number: the stream's handle owns it, so destroying the stream
   * (or the teardown of this thread) closes it. Default false, as on `Async`.
   * An `Async` handle given instead decides for itself.
   */
  ownsFd?: boolean;
  /**
   * Packet mode: one chunk per read() and one write() per chunk, never merged
   * or split (the readable side is in object mode). Detected for sockets
   * (`SOCK_DGRAM`, `SOCK_SEQPACKET`, `SOCK_RAW`: on; `SOCK_STREAM`, pipes: off);
   * say `true` for message devices the kernel cannot tell apart (TUN/TAP).
   */
  packet?: boolean;
  /** Bytes per read(); in packet mode the largest packet (longer ones are truncated by the kernel). Default 65536. */
  readSize?: number;
  /** As in `node:stream`; the readable side defaults to 65536 bytes (16 packets in packet mode). */
  highWaterMark?: number;
  /** Aborting destroys the stream with an `AbortError`. */
  signal?: AbortSignal;
  /** The readable side's encoding, as `readable.setEncoding()`. */
  encoding?: BufferEncoding;
}

export interface FdDuplexOptions extends FdStreamOptions {
  /** As in `node:net`: false (default) ends the writable side when the readable side ends. */
  allowHalfOpen?: boolean;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

/** What the three stream kinds add to their `node:stream` class. */
interface FdStream {
  /** The file descriptor. */
  readonly fd: number;
  /** Whether the file carries messages: one chunk per read() and one write() per chunk. */
  readonly packet: boolean;
  /** A reading or writing stream keeps the process alive (the default), like `net.Socket`. */
  ref(): this;
  /** Pending reads and writes no longer keep the process alive. */
  unref(): this;
}

/** A `stream.Readable` over an fd, from {@link createReadStream}. */
export interface FdReadStream extends Readable, FdStream {}
/** A `stream.Writable` over an fd, from {@link createWriteStream}. */
export interface FdWriteStream extends Writable, FdStream {}
/** A `stream.Duplex` over an fd, from {@link createDuplex}. */
export interface FdDuplex extends Duplex, FdStream {}

interface Target {
  fd: number;
  handle: Async | null;
  kind: FdKind;
  packet: boolean;
}

type Callback = (error?: Error | null) => void;

function destroyedError(): Error {
  return codedError('ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed');
}

function checkOptions(options: unknown, duplex: boolean): FdDuplexOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const o = options as FdDuplexOptions;
  for (const name of duplex ? (['ownsFd', 'packet', 'allowHalfOpen'] as const) : (['ownsFd', 'packet'] as const)) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw invalidArgType(`options.${name}`, 'of type boolean', o[name]);
  }
  if (o.readSize !== undefined) validateInteger(o.readSize, 'options.readSize', 1, 2 ** 30);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal);
  }
  return o;
}

/** Which fd, what kind of file, which mode; no side effects (the Async comes later). */
function probe(target: unknown, o: FdStreamOptions): Target {
  let handle: Async | null = null;
  let fd: number;
  if (target instanceof Async) {
    if (target.closed) throw codedError('ERR_ASYNC_CLOSED', 'The Async handle is closed');
    if (o.ownsFd !== undefined) {
      throw invalidArgValue('options.ownsFd', o.ownsFd, 'applies to an fd number only (an Async handle owns its fd or not itself)');
    }
    handle = target;
    fd = target.fd;
  } else if (typeof target === 'number') {
    validateFd(target);
    fd = target;
  } else {
    throw invalidArgType('fd', 'of type number or an instance of Async', target);
  }
  const kind = backendModule().native.fdKind(fd);
  // A stream over a disk file would block the loop on disk I/O.
  refuseUnpollable(fd, kind, false);
  const messages = kind === 'socket-dgram' || kind === 'socket-seqpacket' || kind === 'socket-raw' || kind === 'socket-other';
  const bytes = kind === 'socket-stream' || kind === 'fifo';
  if ((o.packet === true && bytes) || (o.packet === false && messages)) {
    throw invalidArgValue('options.packet', o.packet, `contradicts the kernel: fd ${fd} is a ${kind}`);
  }
  return { fd, handle, kind, packet: messages || o.packet === true };
}

/** Finishes a factory: the Async (if an fd number was given) and the AbortSignal. */
function attach<S extends Readable | Writable>(stream: S & { [kAttach](handle: Async, t: Target, o: FdStreamOptions): void }, t: Target, o: FdStreamOptions): S {
  const handle = t.handle ?? new Async(t.fd, { ownsFd: o.ownsFd ?? false });
  stream[kAttach](handle, t, o);
  if (o.signal !== undefined) addAbortSignal(o.signal, stream);
  return stream;
}

const kAttach = Symbol('async-io.stream.attach');

/**
 * The read side: reads into a slab of 2 × readSize (at least 64 KiB) and
 * pushes subarrays of it, so short reads (a tty, a socket) share one
 * allocation; one Async.read per chunk, and the next read starts at once
 * while the consumer keeps up.
 */
class Reader {
  readonly #stream: Readable;
  readonly #handle: Async;
  readonly #size: number;
  readonly #slabSize: number;
  /** a terminal's EIO: the pty's other side closed (Linux) */
  readonly #eioIsEof: boolean;
  /** 0 bytes means EOF, except on datagram sockets (an empty datagram) */
  readonly #zeroIsEof: boolean;
  #slab: Buffer | null = null;
  #offset = 0;
  #reading = false;

  constructor(stream: Readable, handle: Async, t: Target, size: number) {
    this.#stream = stream;
    this.#handle = handle;
    this.#size = size;
    this.#slabSize = Math.max(2 * size, READ_SIZE);
    this.#eioIsEof = t.kind === 'tty';
    this.#zeroIsEof = t.kind !== 'socket-dgram' && t.kind !== 'socket-raw';
  }

  pull(): void {
    if (this.#reading) return;
    this.#reading = true;
    let slab = this.#slab;
    if (slab === null || slab.length - this.#offset < this.#size) {
      slab = this.#slab = Buffer.allocUnsafe(this.#slabSize);
      this.#offset = 0;
    }
    this.#handle.read(slab.subarray(this.#offset, this.#offset + this.#size)).then(this.#onRead, this.#onError);
  }

  readonly #onRead = (n: number): void => {
    this.#reading = false;
    const stream = this.#stream;
    if (stream.destroyed) return;
    if (n === 0 && this.#zeroIsEof) {
      stream.push(null);
      return;
    }
    const start = this.#offset;
    this.#offset = start + n;
    if (stream.push(this.#slab!.subarray(start, start + n))) this.pull();
  };

  readonly #onError = (error: NodeJS.ErrnoException): void => {
    this.#reading = false;
    const stream = this.#stream;
    if (stream.destroyed) return; // our own close() failing the pending read
    if (error.code === 'EIO' && this.#eioIsEof) stream.push(null);
    else stream.destroy(error);
  };
}

/** The write side: one write in flight; a short write continues from where it stopped (byte mode). */
class Writer {
  readonly #stream: Writable;
  readonly #handle: Async;
  readonly #packet: boolean;
  #chunk: Uint8Array | null = null;
  #cb: Callback | null = null;
  #afterWrite: (() => void) | null = null;

  constructor(stream: Writable, handle: Async, packet: boolean) {
    this.#stream = stream;
    this.#handle = handle;
    this.#packet = packet;
  }

  write(chunk: Uint8Array, cb: Callback): void {
    if (this.#stream.destroyed) return cb(destroyedError());
    if (chunk.byteLength === 0 && !this.#packet) return cb();
    this.#chunk = chunk;
    this.#cb = cb;
    this.#handle.write(chunk).then(this.#onWritten, this.#onError);
  }

  /** Byte mode: queued chunks merged into writes of up to 64 KiB (big ones alone, uncopied). */
  writev(chunks: { chunk: Uint8Array }[], cb: Callback): void {
    const writes: Uint8Array[] = [];
    let group: Uint8Array[] = [];
    let size = 0;
    const flush = (): void => {
      if (group.length > 0) writes.push(group.length === 1 ? group[0]! : Buffer.concat(group, size));
      group = [];
      size = 0;
    };
    for (const { chunk } of chunks) {
      if (chunk.byteLength >= MERGE_LIMIT) {
        flush();
        writes.push(chunk);
      } else {
        if (size + chunk.byteLength > MERGE_LIMIT) flush();
        group.push(chunk);
        size += chunk.byteLength;
      }
    }
    flush();
    let i = 0;
    const next: Callback = (error) => {
      if (error) return cb(error);
      if (i === writes.length) return cb();
      this.write(writes[i++]!, next);
    };
    next();
  }

  /** Runs `then` once no write is in flight (at once if none is). */
  settled(then: () => void): void {
    if (this.#cb === null) then();
    else this.#afterWrite = then;
  }

  readonly #onWritten = (n: number): void => {
    const chunk = this.#chunk!;
    if (n === chunk.byteLength) return this.#done(null);
    if (this.#stream.destroyed) return this.#done(destroyedError());
    if (this.#packet) {
      return this.#done(codedError('ERR_ASYNC_IO_SHORT_WRITE', `write() took ${n} of a ${chunk.byteLength}-byte packet`));
    }
    this.#chunk = chunk.subarray(n);
    this.#handle.write(this.#chunk).then(this.#onWritten, this.#onError);
  };

  readonly #onError = (error: Error): void => {
    this.#done(this.#stream.destroyed ? destroyedError() : error);
  };

  #done(error: Error | null): void {
    const cb = this.#cb!;
    this.#cb = null;
    this.#chunk = null;
    cb(error);
    const after = this.#afterWrite;
    if (after !== null && this.#cb === null) {
      this.#afterWrite = null;
      after();
    }
  }
}

/** _final: a connected socket half-closes (the peer reads EOF, our read side stays open). */
function shutdownWrite(handle: Async, kind: FdKind, cb: Callback): void {
  if (kind === 'socket-stream' || kind === 'socket-seqpacket') {
    try {
      const native = backendModule().native;
      native.shutdown(handle.fd, native.constants.shutdown.write);
    } catch (error) {
      // The peer is gone already: nothing left to half-close.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTCONN') return cb(error as Error);
    }
  }
  cb();
}

/** _destroy: close the handle (failing a pending read or write), then wait for the write to settle. */
function destroyHandle(handle: Async | null, writer: Writer | null, error: Error | null, cb: Callback): void {
  let closeError: Error | null = null;
  try {
    handle?.close();
  } catch (e) {
    closeError = e as Error;
  }
  const done = (): void => cb(error ?? closeError);
  if (writer !== null) writer.settled(done);
  else done();
}

function readHighWaterMark(o: FdDuplexOptions, packet: boolean): number {
  return o.readableHighWaterMark ?? o.highWaterMark ?? (packet ? 16 : READ_SIZE);
}

class ReadStreamImpl extends Readable implements FdReadStream {
  #handle: Async | null = null;
  #reader: Reader | null = null;
  #packet = false;

  [kAttach](handle: Async, t: Target, o: FdStreamOptions): void {
    this.#handle = handle;
    this.#packet = t.packet;
    this.#reader = new Reader(this, handle, t, o.readSize ?? READ_SIZE);
  }

  get fd(): number {
    return this.#handle!.fd;
  }

  get packet(): boolean {
    return this.#packet;
  }

  ref(): this {
    this.#handle!.ref();
    return this;
  }

  unref(): this {
    this.#handle!.unref();
    return this;
  }

  override _read(): void {
    this.#reader!.pull();
  }

  override _destroy(error: Error | null, cb: Callback): void {
    destroyHandle(this.#handle, null, error, cb);
  }
}

class WriteStreamImpl extends Writable implements FdWriteStream {
  #handle: Async | null = null;
  #writer: Writer | null = null;
  #kind: FdKind = 'other';
  #packet = false;

  [kAttach](handle: Async, t: Target): void {
    this.#handle = handle;
    this.#kind = t.kind;
    this.#packet = t.packet;
    const writer = (this.#writer = new Writer(this, handle, t.packet));
    if (!t.packet) this._writev = (chunks, cb) => writer.writev(chunks, cb);
  }

  get fd(): number {
    return this.#handle!.fd;
  }

  get packet(): boolean {
    return this.#packet;
  }

  ref(): this {
    this.#handle!.ref();
    return this;
  }

  unref(): this {
    this.#handle!.unref();
    return this;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: Callback): void {
    this.#writer!.write(chunk, cb);
  }

  override _final(cb: Callback): void {
    shutdownWrite(this.#handle!, this.#kind, cb);
  }

  override _destroy(error: Error | null, cb: Callback): void {
    destroyHandle(this.#handle, this.#writer, error, cb);
  }
}

class DuplexImpl extends Duplex implements FdDuplex {
  #handle: Async | null = null;
  #reader: Reader | null = null;
  #writer: Writer | null = null;
  #kind: FdKind = 'other';
  #packet = false;

  [kAttach](handle: Async, t: Target, o: FdStreamOptions): void {
    this.#handle = handle;
    this.#kind = t.kind;
    this.#packet = t.packet;
    this.#reader = new Reader(this, handle, t, o.readSize ?? READ_SIZE);
    const writer = (this.#writer = new Writer(this, handle, t.packet));
    if (!t.packet) this._writev = (chunks, cb) => writer.writev(chunks, cb);
  }

  get fd(): number {
    return this.#handle!.fd;
  }

  get packet(): boolean {
    return this.#packet;
  }

  ref(): this {
    this.#handle!.ref();
    return this;
  }

  unref(): this {
    this.#handle!.unref();
    return this;
  }

  override _read(): void {
    this.#reader!.pull();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: Callback): void {
    this.#writer!.write(chunk, cb);
  }

  override _final(cb: Callback): void {
    shutdownWrite(this.#handle!, this.#kind, cb);
  }

  override _destroy(error: Error | null, cb: Callback): void {
    destroyHandle(this.#handle, this.#writer, error, cb);
  }
}

/**
 * A `stream.Readable` over any fd the reactor can watch (pipe, FIFO, socket,
 * tty or pty, character device, eventfd...), or over an `Async` handle, which
 * the stream then takes over (destroying the stream closes it). Never touches
 * the thread pool. Backpressure, `pipeline()`, `finished()`, async iteration
 * and `Readable.toWeb()` work as on any Readable.
 *
 * Ends (`'end'`) when read() returns 0, on a stream socket once the peer hung
 * up and what it sent is read, and on a terminal at EIO (a pty master whose
 * other side closed, on Linux). Other errors destroy the stream with the
 * SystemError (`code`, `errno`, `syscall`). Regular files, directories and
 * block devices throw `ERR_INVALID_FD_TYPE`: use `node:fs` for them.
 *
 * @example
 * import { createReadStream } from '@async-io/reactor';
 * for await (const chunk of createReadStream(fd, { ownsFd: true })) console.log(chunk.length);
 */
export function createReadStream(fd: number | Async, options?: FdStreamOptions): FdReadStream {
  const o = checkOptions(options, false);
  const t = probe(fd, o);
  const stream = new ReadStreamImpl({ objectMode: t.packet, highWaterMark: readHighWaterMark(o, t.packet), encoding: o.encoding });
  return attach(stream, t, o);
}

/**
 * A `stream.Writable` over any fd the reactor can watch, or over an `Async`
 * (taken over). `end()` on a connected socket (stream or seqpacket)
 * half-closes it (`shutdown(SHUT_WR)`); `'close'` comes only after every
 * write has been flushed or has failed. A write error (EPIPE: the reader is
 * gone) destroys the stream with it.
 *
 * @example
 * import { createWriteStream } from '@async-io/reactor';
 * const out = createWriteStream(fd);
 * out.end('bye\n', () => console.log('flushed'));
 */
export function createWriteStream(fd: number | Async, options?: FdStreamOptions): FdWriteStream {
  const o = checkOptions(options, false);
  const t = probe(fd, o);
  const stream = new WriteStreamImpl({ highWaterMark: o.highWaterMark });
  return attach(stream, t, o);
}

/**
 * A `stream.Duplex` over one fd (a socket, a tty or pty master, a TUN
 * device...), with the read rules of {@link createReadStream} and the write
 * rules of {@link createWriteStream}. `allowHalfOpen` is false by default, as
 * in `node:net`: when the peer ends, our side ends too.
 *
 * @example
 * import { createDuplex, socketpair } from '@async-io/reactor';
 * const [a, b] = socketpair('seqpacket');
 * const left = createDuplex(a, { ownsFd: true });   // packet mode: one chunk per message
 * const right = createDuplex(b, { ownsFd: true });
 * right.once('data', (msg) => console.log(msg.toString())); // 'ping', whole
 * left.write('ping');
 */
export function createDuplex(fd: number | Async, options?: FdDuplexOptions): FdDuplex {
  const o = checkOptions(options, true);
  const t = probe(fd, o);
  const stream = new DuplexImpl({
    allowHalfOpen: o.allowHalfOpen ?? false,
    readableObjectMode: t.packet,
    readableHighWaterMark: readHighWaterMark(o, t.packet),
    writableHighWaterMark: o.writableHighWaterMark ?? o.highWaterMark,
    encoding: o.encoding,
  });
  return attach(stream, t, o);
}
