// timerfd and eventfd: kernel counters waited on like any other fd.
//
// A timerfd ticks every 20 ms; each read() of its 8 bytes says how many times
// it expired since the last read. An eventfd is a 64-bit counter: a Worker
// thread adds 1, 2, ... 5 to it with 8-byte write()s, and each read() here
// returns the sum written since the last one (writes can coalesce), resetting
// it to 0. Both wait through Async, in its two styles: `await readable()`
// then the read yourself (the timer), or `await read()` (the counter).
//
//   node timerfd-eventfd.mjs
//
// Node has neither syscall: koffi calls timerfd_create, timerfd_settime and
// eventfd from libc (Linux, glibc).
import { setTimeout as sleep } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { Async, read, write } from '@async-io/reactor';

if (!isMainThread) {
  // The other thread: eventfd writes are 8-byte unsigned integers.
  for (let n = 1n; n <= 5n; n++) {
    write(workerData.fd, new BigUint64Array([n]));
    await sleep(5);
  }
} else {
  const libc = koffi.load('libc.so.6');
  const timespec = koffi.struct('timespec', { tv_sec: 'long', tv_nsec: 'long' });
  const itimerspec = koffi.struct('itimerspec', { it_interval: timespec, it_value: timespec });
  const timerfd_create = libc.func('int timerfd_create(int clockid, int flags)');
  const timerfd_settime = libc.func('int timerfd_settime(int fd, int flags, const itimerspec *new, _Out_ itimerspec *old)');
  const eventfd = libc.func('int eventfd(unsigned int initval, int flags)');
  const CLOCK_MONOTONIC = 1;
  const CLOEXEC = 0o2000000; // TFD_CLOEXEC = EFD_CLOEXEC = O_CLOEXEC (Async adds O_NONBLOCK)

  /** A libc result, or a Node-style error from errno. */
  function check(result, syscall) {
    if (result >= 0) return result;
    const errno = -koffi.errno();
    throw Object.assign(new Error(`${getSystemErrorName(errno)}: ${syscall} failed`), { code: getSystemErrorName(errno), errno, syscall });
  }

  async function timer() {
    const timer = new Async(check(timerfd_create(CLOCK_MONOTONIC, CLOEXEC), 'timerfd_create'), { ownsFd: true });
    const every20ms = { tv_sec: 0, tv_nsec: 20_000_000 };
    check(timerfd_settime(timer.fd, 0, { it_interval: every20ms, it_value: every20ms }, null), 'timerfd_settime');
    const expirations = new BigUint64Array(1);
    let total = 0n;
    while (total < 5n) {
      await timer.readable();
      if (read(timer.fd, expirations) === null) continue; // would block: wait again
      total += expirations[0]; // 8 bytes: expirations since the last read
      console.log(`timerfd: ${expirations[0]} expiration(s), ${total} in all`);
    }
    timer.close(); // closes the fd: the timer stops with it
    return total;
  }

  async function counter() {
    const counter = new Async(check(eventfd(0, CLOEXEC), 'eventfd'), { ownsFd: true });
    const worker = new Worker(new URL(import.meta.url), { workerData: { fd: counter.fd } });
    const value = new BigUint64Array(1);
    let total = 0n;
    while (total < 15n) {
      await counter.read(value); // 8 bytes: the sum of the writes since the last read
      total += value[0];
      console.log(`eventfd: read ${value[0]}, ${total} in all`);
    }
    await new Promise((resolve) => worker.once('exit', resolve));
    counter.close(); // only once the Worker is done with the fd number
    return total;
  }

  const [expirations, sum] = await Promise.all([timer(), counter()]);
  console.log(`done: ${expirations} timer expirations, eventfd total ${sum}`);
}
