// Serial device: serialport on the async-io reactor, read one line at a time.
//
//   node serial.mjs [/dev/ttyUSB0]
//
// The program is what you write for a real port: serialport's own SerialPort
// and ReadlineParser, with one change, `binding: autoDetect()` from
// @async-io/serialport. Opening, raw mode and 115200 baud are serialport's
// (bindings-cpp's termios code); every read and write waits on the reactor,
// never on the thread pool, so the same code runs in a Worker, under Bun and
// under Deno. Without an argument, a pseudo-terminal stands in for the port:
// posix_openpt/grantpt/unlockpt/ptsname (through koffi) make a pty pair, the
// program opens its slave end by path as it would open /dev/ttyUSB0, and a
// "device" on the master end answers each line.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';
import { ReadlineParser, SerialPort } from 'serialport';
import { autoDetect } from '@async-io/serialport';
import { createDuplex } from '@async-io/reactor';

/** The stand-in device: a pty master that answers every line it gets. */
function standIn() {
  const libc = koffi.load('libc.so.6');
  const [posix_openpt, grantpt, unlockpt] = ['posix_openpt', 'grantpt', 'unlockpt'].map((f) => libc.func(`int ${f}(int fd)`));
  const ptsname = libc.func('const char *ptsname(int fd)');
  const check = (result, syscall) => {
    if (result >= 0) return result;
    const errno = -koffi.errno();
    throw Object.assign(new Error(`${getSystemErrorName(errno)}: ${syscall} failed`), { code: getSystemErrorName(errno), errno, syscall });
  };
  const fd = check(posix_openpt(2 /* O_RDWR */ | 0o400 /* O_NOCTTY */ | 0o2000000 /* O_CLOEXEC */), 'posix_openpt');
  check(grantpt(fd), 'grantpt');
  check(unlockpt(fd), 'unlockpt');
  const master = createDuplex(fd, { ownsFd: true });
  const answered = (async () => {
    for await (const line of createInterface({ input: master, crlfDelay: Infinity })) {
      master.write(`OK ${Buffer.byteLength(line)} bytes: ${line}\r\n`);
    }
  })(); // ends at EOF: the port closed (a pty's EIO)
  return { path: ptsname(fd), master, answered };
}

const device = process.argv[2] ? null : standIn();
const path = process.argv[2] ?? device.path;

// The three lines that move a serialport program onto the reactor:
const port = new SerialPort({ binding: autoDetect(), path, baudRate: 115200 });
await once(port, 'open');
console.log(`port ${device ? path : 'open'} open, raw mode, 115200 baud`);

const replies = port.pipe(new ReadlineParser({ delimiter: '\r\n' }))[Symbol.asyncIterator]();
for (const command of ['AT', 'ATI', 'hello, device ✓']) {
  port.write(`${command}\r\n`);
  const { value } = await replies.next();
  console.log(`sent ${JSON.stringify(command)} -> got ${JSON.stringify(value)}`);
}
await new Promise((resolve, reject) => port.close((error) => (error ? reject(error) : resolve())));
if (device) {
  await device.answered;
  device.master.destroy();
}
