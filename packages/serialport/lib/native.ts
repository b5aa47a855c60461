/**
 * What this package takes from `@serialport/bindings-cpp`: its native
 * functions for opening a port (open flags, flock, termios, custom baud
 * rates), changing and reading its settings and modem lines, flushing and
 * draining, and listing ports on macOS. Never its reads, writes or poller.
 *
 * The addon is loaded from bindings-cpp's own prebuilds (node-gyp-build, no
 * install script needed). Loading it creates nothing; only its `Poller`
 * class touches libuv (`uv_poll_init(uv_default_loop())`, which Bun does not
 * have and a Worker must not use), and this package never constructs it.
 */
import { getSystemErrorMap, promisify } from 'node:util';
import type { OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions } from '@serialport/bindings-interface';

type Callback<T> = (error: Error | null, result: T) => void;

/** The subset of bindings-cpp's addon (`src/serialport.cpp`) used here. */
interface CppAddon {
  open(path: string, options: Required<OpenOptions>, cb: Callback<number>): void;
  update(fd: number, options: UpdateOptions, cb: Callback<void>): void;
  set(fd: number, options: Required<SetOptions>, cb: Callback<void>): void;
  get(fd: number, cb: Callback<PortStatus>): void;
  getBaudRate(fd: number, cb: Callback<{ baudRate: number }>): void;
  flush(fd: number, cb: Callback<void>): void;
  drain(fd: number, cb: Callback<void>): void;
  list?(cb: Callback<PortInfo[]>): void;
}

export interface Native {
  open(path: string, options: Required<OpenOptions>): Promise<number>;
  update(fd: number, options: UpdateOptions): Promise<void>;
  set(fd: number, options: Required<SetOptions>): Promise<void>;
  get(fd: number): Promise<PortStatus>;
  getBaudRate(fd: number): Promise<{ baudRate: number }>;
  flush(fd: number): Promise<void>;
  drain(fd: number): Promise<void>;
  list(): Promise<PortInfo[]>;
}

let native: Native | undefined;
let byMessage: Map<string, [code: string, errno: number]> | undefined;

/**
 * bindings-cpp's native errors carry only a message built from strerror
 * ("Error: No such file or directory, cannot open /dev/ttyX"): give them
 * Node's `code` and `errno` back from that text.
 */
function coded(error: Error, syscall: string): Error {
  if (byMessage === undefined) {
    byMessage = new Map();
    for (const [errno, [code, message]] of getSystemErrorMap()) byMessage.set(message.toLowerCase(), [code, errno]);
  }
  const text = error.message.toLowerCase();
  for (const [message, [code, errno]] of byMessage) {
    if (text.includes(message)) return Object.assign(error, { code, errno, syscall });
  }
  return error;
}

/** A native call as a promise whose rejection is coded. */
function call<A extends unknown[], T>(fn: (...args: [...A, Callback<T>]) => void, syscall: string): (...args: A) => Promise<T> {
  const p = promisify(fn as (...args: unknown[]) => void) as (...args: A) => Promise<T>;
  return (...args) => p(...args).catch((error: Error) => Promise.reject(coded(error, syscall)));
}

/** bindings-cpp's addon, promisified; loaded on first use. */
export function cpp(): Native {
  if (native !== undefined) return native;
  // Its own loader (node-gyp-build over its prebuilds); bindings-cpp has no
  // `exports` map, and the range in package.json pins this path.
  const addon = (require('@serialport/bindings-cpp/dist/serialport-bindings') as { binding: CppAddon }).binding;
  const list = addon.list;
  const made: Native = {
    open: call(addon.open, 'open'),
    update: call(addon.update, 'tcsetattr'),
    set: call(addon.set, 'ioctl'),
    get: call(addon.get, 'ioctl'),
    getBaudRate: call(addon.getBaudRate, 'tcgetattr'),
    flush: call(addon.flush, 'tcflush'),
    drain: call(addon.drain, 'tcdrain'),
    list: list ? call(list, 'list') : () => Promise.resolve([]),
  };
  native = made;
  return made;
}
