/** What a backend addon exports (see include/async_io/addon.h). */
import type { BackendName } from './table.js';

/** Opaque native handle to one reference on a poller. */
export type NativeHandle = { readonly __brand: 'async-io.poller' };

export interface NativeAddon {
  readonly name: BackendName;
  /** AIO_CAP_* bits */
  readonly caps: number;
  create(): NativeHandle;
  fromShared(id: number): NativeHandle;
  shareId(h: NativeHandle): number;
  close(h: NativeHandle): void;
  fd(h: NativeHandle): number;
  add(h: NativeHandle, fd: number, key: number, interest: number, mode: number): void;
  modify(h: NativeHandle, fd: number, key: number, interest: number, mode: number): void;
  delete(h: NativeHandle, fd: number): void;
  wait(h: NativeHandle, batch: Uint32Array, timeoutMs: number): number;
  notify(h: NativeHandle): void;
  pipe(): [number, number];
  socketpair(): [number, number];
  read(fd: number, buf: ArrayBufferView): number | null;
  write(fd: number, buf: ArrayBufferView): number | null;
  closeFd(fd: number): void;
  setNonblocking(fd: number): void;
  /** AIO_* bits the fd is ready for right now (poll with 0 ms). */
  fdReadiness(fd: number): number;
  /** [st_dev, st_ino, FIFO or SOCK_STREAM socket (a short read means drained)] */
  fdStat(fd: number): [number, number, boolean];
  // streams: what kind of file an fd is, half-close, typed socket pairs
  fdKind(fd: number): FdKind;
  /** how: 0 SHUT_RD, 1 SHUT_WR, 2 SHUT_RDWR */
  shutdown(fd: number, how: number): void;
  /** type: 0 SOCK_STREAM, 1 SOCK_DGRAM, 2 SOCK_SEQPACKET */
  socketpairOf(type: number): [number, number];
}

/** What `fstat` (and `SO_TYPE` for a socket, `isatty` for a character device) says an fd is. */
export type FdKind =
  | 'file' | 'directory' | 'block' | 'char' | 'tty' | 'fifo'
  | 'socket-stream' | 'socket-dgram' | 'socket-seqpacket' | 'socket-raw' | 'socket-other' | 'other';

export const CAP_LEVEL = 0x1;
export const CAP_EDGE = 0x2;
export const CAP_PRIORITY = 0x4;
