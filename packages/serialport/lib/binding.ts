import { closeSync } from 'node:fs';
import { Async } from '@async-io/reactor';
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface';
import { cpp } from './native.js';
import { bsdList, linuxList } from './list.js';

/**
 * The error a port's operations reject with, as bindings-cpp's
 * `BindingsError`: `canceled` when the port was closed under a pending read
 * or write, `disconnect` when the device is gone.
 */
export class SerialPortError extends Error {
  override name = 'SerialPortError';
  /** The port was closed while the operation was pending. */
  canceled: boolean;
  /** The device is gone (unplugged, its pty master closed): reported once per port. */
  disconnect: boolean;
  code: string | undefined;
  errno: number | undefined;
  syscall: string | undefined;

  constructor(message: string, options: { canceled?: boolean; disconnect?: boolean; code?: string; errno?: number; syscall?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.canceled = options.canceled ?? false;
    this.disconnect = options.disconnect ?? false;
    this.code = options.code;
    this.errno = options.errno;
    this.syscall = options.syscall;
  }
}

/** Errors that mean the device went away: a pty whose master closed (EIO), an unplugged USB adapter (EIO, ENXIO, ENODEV). */
const LOST = new Set(['EIO', 'ENXIO', 'ENODEV', 'EBADF', 'EPIPE']);

const DEFAULTS = {
  vmin: 1,
  vtime: 0,
  dataBits: 8,
  lock: true,
  stopBits: 1,
  parity: 'none',
  rtscts: false,
  xon: false,
  xoff: false,
  xany: false,
  hupcl: true,
} as const;

/** What `open()` accepts beyond the interface: bindings-cpp's Unix options, passed to its native open. */
export interface ReactorOpenOptions extends OpenOptions {
  /** Minimum bytes for a read to return (termios VMIN); default 1. */
  vmin?: number;
  /** Read timeout in tenths of a second (termios VTIME); default 0. */
  vtime?: number;
}

function notOpen(): Error {
  return new Error('Port is not open');
}

function checkOptions(options: unknown, name = '"options"'): void {
  if (!options || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${name} is not an object`);
}

/**
 * One open serial port: reads and writes wait on this thread's async-io
 * reactor and never use the thread pool; settings, modem lines, flush and
 * drain are bindings-cpp's native functions.
 *
 * @example
 * const port = await ReactorBinding.open({ path: '/dev/ttyUSB0', baudRate: 115200 });
 * await port.write(Buffer.from('AT\r\n'));
 * const { bytesRead, buffer } = await port.read(Buffer.alloc(64), 0, 64);
 * await port.close();
 */
export class ReactorPortBinding implements BindingPortInterface {
  /** The port's fd; null once closed. */
  fd: number | null;
  readonly openOptions: Required<ReactorOpenOptions>;
  readonly #handle: Async;
  #writeOperation: Promise<void> | null = null;
  /** The device is gone: the error already reported, so that it is reported once. */
  #lost: SerialPortError | null = null;

  /**
   * Takes ownership of an open serial fd (what bindings-cpp's `open` returns).
   *
   * @example const port = new ReactorPortBinding(fd, { path, baudRate: 9600, ...defaults });
   */
  constructor(fd: number, openOptions: Required<ReactorOpenOptions>) {
    // Owned by the reactor: a Worker that exits with the port open closes it too.
    this.#handle = new Async(fd, { ownsFd: true });
    this.fd = fd;
    this.openOptions = openOptions;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /**
   * Closes the port at once (no thread pool); a pending read or write rejects with `canceled: true`.
   *
   * @example await port.close();
   */
  async close(): Promise<void> {
    if (!this.isOpen) throw notOpen();
    this.fd = null;
    this.#handle.close();
  }

  /**
   * Reads at least one byte into `buffer[offset, offset + length)` once the
   * device sends some.
   *
   * @example const { bytesRead } = await port.read(buf, 0, buf.length);
   */
  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!Buffer.isBuffer(buffer)) throw new TypeError('"buffer" is not a Buffer');
    if (typeof offset !== 'number' || Number.isNaN(offset)) throw new TypeError(`"offset" is not an integer got "${Number.isNaN(offset) ? 'NaN' : typeof offset}"`);
    if (typeof length !== 'number' || Number.isNaN(length)) throw new TypeError(`"length" is not an integer got "${Number.isNaN(length) ? 'NaN' : typeof length}"`);
    if (buffer.length < offset + length) throw new Error('buffer is too small');
    if (length < 1 || offset < 0) {
      // A zero-length read would return 0 for ever (bindings-cpp retries it in a loop).
      throw Object.assign(new RangeError(`"length" must be at least 1 and "offset" at least 0, got ${length} and ${offset}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    if (!this.isOpen) throw notOpen();
    if (this.#lost !== null) throw this.#gone();
    const view = buffer.subarray(offset, offset + length);
    // 0 from read(): the tty hung up (Linux and macOS after an unplug), or,
    // with vmin 0, nothing had arrived. Ask the kernel which instead of
    // reading again at once (bindings-cpp's unix-read spins on it). A 0 right
    // after the kernel said readable is an end of file too: at most one wait
    // between two zero reads, never a loop.
    let readableSaid = false;
    for (;;) {
      let n: number;
      try {
        n = await this.#handle.read(view);
      } catch (error) {
        throw this.#failure(error, 'read');
      }
      if (n > 0) return { buffer, bytesRead: n };
      let gone = readableSaid;
      if (!gone) {
        try {
          const { hangup, error } = await this.#handle.ready({ readable: true });
          gone = hangup || error;
        } catch (error) {
          throw this.#failure(error, 'read');
        }
        readableSaid = true;
      }
      if (gone) {
        // libuv's name for it (UV_EOF, -4095), as Node reports an end of file.
        throw this.#failure(Object.assign(new Error('EOF: the device hung up, read'), { code: 'EOF', errno: -4095, syscall: 'read' }), 'read');
      }
    }
  }

  /**
   * Writes all of `buffer`, waiting for room as the device takes it.
   * Resolves when the kernel has it (see {@link drain}).
   *
   * @example await port.write(Buffer.from('AT\r\n'));
   */
  write(buffer: Buffer): Promise<void> {
    if (!Buffer.isBuffer(buffer)) return Promise.reject(new TypeError('"buffer" is not a Buffer'));
    if (!this.isOpen) return Promise.reject(notOpen());
    if (this.#lost !== null) return Promise.reject(this.#gone());
    const operation = this.#writeAll(buffer);
    this.#writeOperation = operation;
    const clear = (): void => {
      if (this.#writeOperation === operation) this.#writeOperation = null;
    };
    operation.then(clear, clear);
    return operation;
  }

  async #writeAll(buffer: Buffer): Promise<void> {
    for (let offset = 0; offset < buffer.length; ) {
      try {
        offset += await this.#handle.write(offset === 0 ? buffer : buffer.subarray(offset));
      } catch (error) {
        throw this.#failure(error, 'write');
      }
    }
  }

  /**
   * Changes the baud rate.
   *
   * @example await port.update({ baudRate: 9600 });
   */
  async update(options: UpdateOptions): Promise<void> {
    checkOptions(options);
    if (typeof options.baudRate !== 'number') throw new TypeError('"options.baudRate" is not a number');
    await cpp().update(this.#fd(), options);
  }

  /**
   * Sets the modem lines and break: every flag, to the given or default value.
   *
   * @example await port.set({ dtr: false, rts: true });
   */
  async set(options: SetOptions): Promise<void> {
    checkOptions(options);
    const flags = { brk: false, cts: false, dsr: false, dtr: true, rts: true, lowLatency: false, ...options } as Required<SetOptions>;
    await cpp().set(this.#fd(), flags);
  }

  /**
   * Reads the modem status lines.
   *
   * @example const { cts, dsr, dcd } = await port.get();
   */
  async get(): Promise<PortStatus> {
    return cpp().get(this.#fd());
  }

  /**
   * The baud rate the OS reports for the port.
   *
   * @example const { baudRate } = await port.getBaudRate();
   */
  async getBaudRate(): Promise<{ baudRate: number }> {
    return cpp().getBaudRate(this.#fd());
  }

  /**
   * Discards what was received and not read, and written and not sent.
   *
   * @example await port.flush();
   */
  async flush(): Promise<void> {
    await cpp().flush(this.#fd());
  }

  /**
   * Waits for the pending write, then until the device has sent everything (tcdrain).
   *
   * @example await port.write(data); await port.drain();
   */
  async drain(): Promise<void> {
    this.#fd();
    await this.#writeOperation;
    await cpp().drain(this.#fd());
  }

  #fd(): number {
    if (this.fd === null) throw notOpen();
    return this.fd;
  }

  /** After a disconnect was reported: later operations fail, without the flag. */
  #gone(): SerialPortError {
    return new SerialPortError('Port is disconnected', { code: 'ERR_SERIALPORT_DISCONNECTED', cause: this.#lost });
  }

  /** The error an operation rejects with: canceled after close, disconnect once when the device is lost. */
  #failure(error: unknown, syscall: string): Error {
    const e = error as NodeJS.ErrnoException;
    if (!this.isOpen || e?.code === 'ERR_ASYNC_CLOSED') return new SerialPortError('Port is not open', { canceled: true, cause: error });
    const code = e?.code;
    if (code !== undefined && (LOST.has(code) || code === 'EOF')) {
      if (this.#lost !== null) return this.#gone();
      this.#lost = new SerialPortError(`${e.message ?? code}`, { disconnect: true, code, errno: e.errno, syscall: e.syscall ?? syscall, cause: error });
      return this.#lost;
    }
    return error as Error;
  }
}

/**
 * The binding for `serialport` on the async-io reactor (Linux, macOS, the
 * BSDs): pass it as `binding` to `new SerialPort()` or `@serialport/stream`.
 *
 * @example
 * import { SerialPortStream } from '@serialport/stream';
 * import { ReactorBinding } from '@async-io/serialport';
 * const port = new SerialPortStream({ binding: ReactorBinding, path: '/dev/ttyUSB0', baudRate: 115200 });
 */
export const ReactorBinding: BindingInterface<ReactorPortBinding, ReactorOpenOptions, PortInfo> = {
  list(): Promise<PortInfo[]> {
    if (process.platform === 'linux' || process.platform === 'android') return linuxList();
    if (process.platform === 'darwin') return cpp().list();
    return bsdList();
  },

  async open(options: ReactorOpenOptions): Promise<ReactorPortBinding> {
    checkOptions(options);
    if (!options.path) throw new TypeError('"path" is not a valid port');
    if (!options.baudRate) throw new TypeError('"baudRate" is not a valid baudRate');
    const openOptions = { ...DEFAULTS, ...options } as Required<ReactorOpenOptions>;
    const fd = await cpp().open(openOptions.path, openOptions);
    try {
      return new ReactorPortBinding(fd, openOptions);
    } catch (error) {
      // Registration failed: the fd is still ours to close.
      try {
        closeSync(fd);
      } catch {}
      throw error;
    }
  },
};
