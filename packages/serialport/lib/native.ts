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
import { promisify } from 'node:util';
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

/** bindings-cpp's addon, promisified; loaded on first use. */
export function cpp(): Native {
  if (native !== undefined) return native;
  // Its own loader (node-gyp-build over its prebuilds); bindings-cpp has no
  // `exports` map, and the range in package.json pins this path.
  const addon = (require('@serialport/bindings-cpp/dist/serialport-bindings') as { binding: CppAddon }).binding;
  const list = addon.list;
  const made: Native = {
    open: promisify(addon.open),
    update: promisify(addon.update),
    set: promisify(addon.set),
    get: promisify(addon.get),
    getBaudRate: promisify(addon.getBaudRate),
    flush: promisify(addon.flush),
    drain: promisify(addon.drain),
    list: list ? promisify(list) : () => Promise.resolve([]),
  };
  native = made;
  return made;
}
