import { invalidArgType, invalidArgValue } from './errors.js';
import type { NativeAddon } from './native.js';
import { validateBuffer, validateFd } from './validate.js';

/** The AF_UNIX socket types `socketpair()` makes. */
export type SocketType = 'stream' | 'dgram' | 'seqpacket';
const SOCKET_TYPES: readonly SocketType[] = ['stream', 'dgram', 'seqpacket'];

/** The fd helpers every backend addon carries. Would-block is `null`, never a throw. */
export interface FdHelpers {
  /** A non-blocking, close-on-exec pipe. @example const [r, w] = pipe(); */
  pipe(): [read: number, write: number];
  /**
   * A non-blocking, close-on-exec AF_UNIX socket pair, `SOCK_STREAM` unless
   * `type` says `'dgram'` or `'seqpacket'` (message sockets: one read per message).
   *
   * @example const [a, b] = socketpair('seqpacket');
   */
  socketpair(type?: SocketType): [number, number];
  /** Reads into `buf`: bytes read, 0 at EOF, `null` if it would block. */
  read(fd: number, buf: ArrayBufferView): number | null;
  /** Writes `buf`: bytes written, `null` if it would block. */
  write(fd: number, buf: ArrayBufferView): number | null;
  /** Closes an fd. */
  close(fd: number): void;
  /** Sets O_NONBLOCK. */
  setNonblocking(fd: number): void;
}

/** Wraps an addon's fd helpers with Node-style argument checks. */
export function defineFdHelpers(addon: NativeAddon): FdHelpers {
  return {
    pipe: () => addon.pipe(),
    socketpair(type = 'stream') {
      if (typeof type !== 'string') throw invalidArgType('type', 'of type string', type);
      if (!SOCKET_TYPES.includes(type)) throw invalidArgValue('type', type, "must be one of 'stream', 'dgram', 'seqpacket'");
      return type === 'stream' ? addon.socketpair() : addon.socketpairOf(addon.constants.socketTypes[type]);
    },
    read(fd, buf) {
      validateFd(fd);
      validateBuffer(buf);
      return addon.read(fd, buf);
    },
    write(fd, buf) {
      validateFd(fd);
      validateBuffer(buf);
      return addon.write(fd, buf);
    },
    close(fd) {
      validateFd(fd);
      addon.closeFd(fd);
    },
    setNonblocking(fd) {
      validateFd(fd);
      addon.setNonblocking(fd);
    },
  };
}
