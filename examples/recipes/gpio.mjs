// Moving from npm `epoll`: an onoff-style GPIO button.
//
//   node gpio.mjs                                (a FIFO stands in for the pin)
//   node gpio.mjs /sys/class/gpio/gpio17/value   (a real pin, exported, edge "both")
//
// With the `epoll` package an interrupt loop is a callback fed one event at
// a time:
//   const poller = new Epoll((err, fd) => { fs.readSync(fd, buf, 0, 1, 0); onEdge(buf[0] - 48); });
//   fs.readSync(fd, buf, 0, 1, 0);      // clear the interrupt pending since export
//   poller.add(fd, Epoll.EPOLLPRI);     // ... later poller.remove(fd).close()
// Here it is `await handle.priority()` then the same read, in a loop, and
// aborting the wait ends it. The Gpio class keeps onoff's shape:
// watch(callback) with (err, value), unwatchAll(). The stand-in: without an
// argument a FIFO (mkfifo through koffi) plays the `value` file and a timer
// presses the button three times by writing 1, then 0, into it. A FIFO
// reports readable, not priority, so the stand-in is read as data arrives
// (await read()) where the sysfs file waits with priority().
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';
import { Async } from '@async-io/reactor';

class Gpio {
  #stop = new AbortController();
  constructor(valuePath) {
    this.path = valuePath;
  }

  /** Calls callback(err, value) on every edge of the pin, until unwatchAll(). */
  async watch(callback) {
    const fifo = statSync(this.path).isFIFO();
    // A FIFO opened read-write never reads EOF between two presses.
    const handle = new Async(openSync(this.path, fifo ? 'r+' : 'r'), { ownsFd: true });
    const buf = Buffer.alloc(64);
    const { signal } = this.#stop;
    try {
      if (!fifo) readSync(handle.fd, buf, 0, buf.length, 0); // clears the pending interrupt
      for (;;) {
        if (fifo) {
          const n = await handle.read(buf, { signal }); // presses may coalesce: one edge per byte
          for (const c of buf.subarray(0, n)) if (c === 0x30 || c === 0x31) callback(null, c - 0x30);
        } else {
          await handle.priority({ signal });
          readSync(handle.fd, buf, 0, buf.length, 0); // from offset 0: the value, and it re-arms
          callback(null, buf[0] - 0x30);
        }
      }
    } catch (error) {
      if (error.name !== 'AbortError') callback(error);
    } finally {
      handle.close();
    }
  }

  unwatchAll() {
    this.#stop.abort();
  }
}

/** A libc result, or a Node-style error from errno. */
function check(result, syscall) {
  if (result >= 0) return result;
  const errno = -koffi.errno();
  throw Object.assign(new Error(`${getSystemErrorName(errno)}: ${syscall} failed`), { code: getSystemErrorName(errno), errno, syscall });
}

const standIn = process.argv[2] === undefined;
let path = process.argv[2];
if (standIn) {
  const mkfifo = koffi.load('libc.so.6').func('int mkfifo(const char *path, uint32_t mode)');
  path = join(mkdtempSync(join(tmpdir(), 'gpio-')), 'value');
  check(mkfifo(path, 0o600), 'mkfifo');
}

const button = new Gpio(path);
let edges = 0;
button.watch((err, value) => {
  if (err) throw err;
  console.log(value === 1 ? 'pressed' : 'released');
  if (standIn && ++edges === 6) button.unwatchAll();
});
process.once('SIGINT', () => button.unwatchAll()).once('SIGTERM', () => button.unwatchAll());
console.log(`watching ${path}`);

if (standIn) {
  const pin = openSync(path, 'r+'); // the button's side of the FIFO
  for (let i = 0; i < 3; i++) for (const level of '10') writeSync(pin, level), await sleep(20);
  closeSync(pin);
  rmSync(dirname(path), { recursive: true });
}
