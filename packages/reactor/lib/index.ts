/**
 * @async-io/reactor — wait on any file descriptor from Node.js.
 *
 * @example
 * import { Async, pipe, read, write, reactorFd } from '@async-io/reactor';
 * const [r, w] = pipe();
 * const reader = new Async(r, { ownsFd: true });
 * write(w, Buffer.from('hi'));
 * const n = await reader.readWith(() => read(r, Buffer.alloc(16)));
 */
import type { FdHelpers } from '@async-io/backend-core';
import { backendModule } from './reactor.js';

export { Reactor, reactorFd, backendInfo, configure, type BackendInfo } from './reactor.js';
export { Async, AbortError, type AsyncOptions, type Readiness, type WaitOptions } from './async.js';
export { createReadStream, createWriteStream, createDuplex, type FdStreamOptions, type FdDuplexOptions, type FdReadStream, type FdWriteStream, type FdDuplex } from './stream.js';
export { watch, WatchFlags, decodeFlags, type Watcher, type WatchOptions, type WatchMode, type WatchCallback } from './watch.js';
export type { Attempt } from './select.js';
export { Events, BACKENDS, type BackendName, type Interest, type PollEvent, type PollMode, type SocketType } from '@async-io/backend-core';

/** A non-blocking, close-on-exec pipe: `[readFd, writeFd]`. @example const [r, w] = pipe(); */
export const pipe: FdHelpers['pipe'] = () => backendModule().pipe();
/**
 * A non-blocking, close-on-exec AF_UNIX socket pair: `'stream'` (default), `'dgram'` or `'seqpacket'`.
 *
 * @example const [a, b] = socketpair('seqpacket'); // message boundaries kept: createDuplex(a) is in packet mode
 */
export const socketpair: FdHelpers['socketpair'] = (type) => backendModule().socketpair(type);
/** Reads into `buf`: bytes read, 0 at EOF, `null` when it would block. @example const n = read(r, buf); */
export const read: FdHelpers['read'] = (fd, buf) => backendModule().read(fd, buf);
/** Writes `buf`: bytes written, `null` when it would block. @example write(w, Buffer.from('x')); */
export const write: FdHelpers['write'] = (fd, buf) => backendModule().write(fd, buf);
/** Closes an fd. @example close(r); */
export const close: FdHelpers['close'] = (fd) => backendModule().close(fd);
