// Serial device: a port in raw mode, read one line at a time.
//
//   node serial.mjs
//
// openPort() is what a program does with a real /dev/ttyUSB0: open it
// without making it the controlling terminal, switch it to raw mode with
// termios through koffi (cfmakeraw: no echo, no line editing, no CR/LF
// translation; then 115200 baud, receiver on, modem lines ignored) and wrap
// it in a Duplex stream (never the thread pool); node:readline splits what
// arrives into lines. Here a pseudo-terminal
// stands in for the port: posix_openpt/grantpt/unlockpt/ptsname make a pty
// pair, the program opens its slave end by path as it would open
// /dev/ttyUSB0, and a "device" on the master end answers each line.
import { closeSync, constants, openSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';
import { createDuplex } from '@async-io/reactor';

const libc = koffi.load('libc.so.6');
const termios = koffi.struct('termios', { c_iflag: 'uint32', c_oflag: 'uint32', c_cflag: 'uint32', c_lflag: 'uint32', c_line: 'uint8', c_cc: koffi.array('uint8', 32), c_ispeed: 'uint32', c_ospeed: 'uint32' });
const tcgetattr = libc.func('int tcgetattr(int fd, _Out_ termios *t)');
const tcsetattr = libc.func('int tcsetattr(int fd, int when, const termios *t)');
const cfmakeraw = libc.func('void cfmakeraw(_Inout_ termios *t)');
const cfsetspeed = libc.func('int cfsetspeed(_Inout_ termios *t, uint32_t speed)');
const [posix_openpt, grantpt, unlockpt] = ['posix_openpt', 'grantpt', 'unlockpt'].map((f) => libc.func(`int ${f}(int fd)`));
const ptsname = libc.func('const char *ptsname(int fd)');
const [TCSANOW, B115200, CLOCAL, CREAD] = [0, 0o10002, 0o4000, 0o200];
const { O_RDWR, O_NOCTTY, O_NONBLOCK } = constants;

/** A libc result, or a Node-style error from errno. */
function check(result, syscall) {
  if (result >= 0) return result;
  const errno = -koffi.errno();
  throw Object.assign(new Error(`${getSystemErrorName(errno)}: ${syscall} failed`), { code: getSystemErrorName(errno), errno, syscall });
}

/** Opens a serial port in raw mode, 115200 baud, as a Duplex stream. */
function openPort(path) {
  const fd = openSync(path, O_RDWR | O_NOCTTY | O_NONBLOCK); // O_NONBLOCK: do not wait for carrier
  try {
    const t = {};
    check(tcgetattr(fd, t), 'tcgetattr'); // ENOTTY if `path` is no terminal
    cfmakeraw(t);
    t.c_cflag |= CLOCAL | CREAD;
    check(cfsetspeed(t, B115200), 'cfsetspeed');
    check(tcsetattr(fd, TCSANOW, t), 'tcsetattr');
    return createDuplex(fd, { ownsFd: true });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** The lines of a stream, without their CR/LF, until EOF (a pty's EIO at close is its EOF). */
const lines = (stream) => createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();

// The stand-in: a pty pair. The device answers on the master end.
const masterFd = check(posix_openpt(O_RDWR | O_NOCTTY | 0o2000000 /* O_CLOEXEC */), 'posix_openpt');
check(grantpt(masterFd), 'grantpt');
check(unlockpt(masterFd), 'unlockpt');
const path = ptsname(masterFd);
const master = createDuplex(masterFd, { ownsFd: true });
const port = openPort(path);
const device = (async () => {
  for await (const line of lines(master)) master.write(`OK ${Buffer.byteLength(line)} bytes: ${line}\r\n`);
})();

console.log(`port ${path} open, raw mode, 115200 baud`);
const replies = lines(port);
for (const command of ['AT', 'ATI', 'hello, device ✓']) {
  port.write(`${command}\r\n`);
  const { value } = await replies.next();
  console.log(`sent ${JSON.stringify(command)} -> got ${JSON.stringify(value)}`);
}
port.destroy();
await once(port, 'close');
await device; // EOF on the master once the port is closed
master.destroy();
