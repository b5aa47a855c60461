import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ReactorBinding, type ReactorPortBinding, linuxList } from '../lib/index.js';
import { socatPair, type Socat } from './helpers.js';

const running: Socat[] = [];
const open: ReactorPortBinding[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) if (p.isOpen) await p.close();
  for (const s of running.splice(0)) await s.kill();
});

async function pair(): Promise<[string, string]> {
  const s = await socatPair();
  running.push(s);
  return [s.paths[0]!, s.paths[1]!];
}

async function openPort(path: string, options: Record<string, unknown> = {}): Promise<ReactorPortBinding> {
  const port = await ReactorBinding.open({ path, baudRate: 115200, ...options });
  open.push(port);
  return port;
}

/** Reads exactly `n` bytes. */
async function readExactly(port: ReactorPortBinding, n: number): Promise<Buffer> {
  const buf = Buffer.alloc(n);
  for (let got = 0; got < n; ) got += (await port.read(buf, got, n - got)).bytesRead;
  return buf;
}

function stty(path: string): string {
  return execFileSync('stty', ['-a', '-F', path], { encoding: 'utf8' });
}

describe('open and close', () => {
  test('20 open/read/write/close cycles on one pair, each exchanging data both ways', async () => {
    const [a, b] = await pair();
    for (let i = 0; i < 20; i++) {
      const pa = await openPort(a);
      const pb = await openPort(b);
      expect(pa.isOpen).toBe(true);
      expect(pa.fd).toBeTypeOf('number');
      await pa.write(Buffer.from(`ping ${i}`));
      expect((await readExactly(pb, `ping ${i}`.length)).toString()).toBe(`ping ${i}`);
      await pb.write(Buffer.from(`pong ${i}`));
      expect((await readExactly(pa, `pong ${i}`.length)).toString()).toBe(`pong ${i}`);
      await pa.close();
      await pb.close();
      expect(pa.isOpen).toBe(false);
      expect(pa.fd).toBe(null);
    }
  });

  test('close releases the fd and the lock: the same path opens again, a second open while locked fails with EAGAIN', async () => {
    const [a] = await pair();
    const first = await openPort(a);
    const fd = first.fd!;
    await expect(ReactorBinding.open({ path: a, baudRate: 9600 })).rejects.toMatchObject({ code: 'EAGAIN' });
    const unlocked = await openPort(a, { lock: false });
    await unlocked.close();
    await first.close();
    expect(() => fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    await (await openPort(a)).close();
  });

  test('operations on a closed port reject with "Port is not open"; close twice too', async () => {
    const [a] = await pair();
    const port = await openPort(a);
    await port.close();
    for (const op of [
      () => port.close(),
      () => port.read(Buffer.alloc(1), 0, 1),
      () => port.write(Buffer.from('x')),
      () => port.update({ baudRate: 9600 }),
      () => port.set({}),
      () => port.get(),
      () => port.getBaudRate(),
      () => port.flush(),
      () => port.drain(),
    ]) {
      await expect(op()).rejects.toThrow('Port is not open');
    }
  });

  test('open errors are coded: ENOENT for a missing path, ENOTTY for a file that is no terminal', async () => {
    await expect(ReactorBinding.open({ path: '/nonexistent/ttyX', baudRate: 9600 })).rejects.toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open' });
    await expect(ReactorBinding.open({ path: '/dev/null', baudRate: 9600 })).rejects.toMatchObject({ code: 'ENOTTY' });
    await expect(ReactorBinding.open(null as never)).rejects.toThrow(TypeError);
    await expect(ReactorBinding.open({ path: '', baudRate: 9600 })).rejects.toThrow('"path" is not a valid port');
    await expect(ReactorBinding.open({ path: '/dev/null', baudRate: 0 })).rejects.toThrow('"baudRate" is not a valid baudRate');
  });

  test('50 ports open at once (25 pairs), every one reading what its peer wrote', async () => {
    const pairs = await Promise.all(Array.from({ length: 25 }, () => pair()));
    const ports = await Promise.all(pairs.map(async ([a, b]) => [await openPort(a), await openPort(b)] as const));
    expect(ports.flat()).toHaveLength(50);
    // Every read is pending before any write: 50 waits on the reactor at once.
    const reads = ports.flatMap(([pa, pb], i) => [readExactly(pa, 5), readExactly(pb, 5)].map((p, j) => p.then((buf) => [i, j, buf.toString()])));
    await Promise.all(ports.map(([pa, pb], i) => Promise.all([pa.write(Buffer.from(`b<-${String(i).padStart(2, '0')}`)), pb.write(Buffer.from(`a<-${String(i).padStart(2, '0')}`))])));
    const got = await Promise.all(reads);
    expect(got).toEqual(ports.flatMap((_, i) => [[i, 0, `a<-${String(i).padStart(2, '0')}`], [i, 1, `b<-${String(i).padStart(2, '0')}`]]));
  });
});

describe('settings', () => {
  test('baud rates round-trip through getBaudRate and the kernel (stty), custom rates included', async () => {
    const [a] = await pair();
    const port = await openPort(a, { baudRate: 57600 });
    expect(await port.getBaudRate()).toEqual({ baudRate: 57600 });
    expect(stty(a)).toMatch(/speed 57600 baud/);
    for (const baudRate of [9600, 230400, 12345]) {
      await port.update({ baudRate });
      expect(await port.getBaudRate()).toEqual({ baudRate });
      // stty decodes the standard rates only (a custom one is BOTHER: "speed 0").
      if (baudRate !== 12345) expect(stty(a)).toMatch(new RegExp(`speed ${baudRate} baud`));
    }
  });

  test('stop bits, parity sense and flow control reach the kernel as set', async () => {
    const [a] = await pair();
    let port = await openPort(a, { stopBits: 2, parity: 'odd', rtscts: true });
    let flags = stty(a);
    expect(flags).toMatch(/(?<![-\w])cstopb\b/);
    expect(flags).toMatch(/(?<![-\w])parodd\b/);
    expect(flags).toMatch(/(?<![-\w])crtscts\b/);
    await port.close();
    port = await openPort(a, { stopBits: 1, parity: 'none', rtscts: false, xon: true, xoff: true });
    flags = stty(a);
    expect(flags).toMatch(/-cstopb/);
    expect(flags).toMatch(/-crtscts/);
    expect(flags).toMatch(/(?<![-\w])ixon\b/);
    expect(flags).toMatch(/(?<![-\w])ixoff\b/);
    // Raw mode, vmin 1 / vtime 0, as bindings-cpp sets it.
    expect(flags).toMatch(/min = 1; time = 0;/);
    expect(flags).toMatch(/-icanon/);
    expect(flags).toMatch(/-echo /);
  });

  test('what a pty cannot do: data bits other than 8 and parity checking (the kernel forces cs8 -parenb), modem lines (ENOTTY)', async () => {
    const [a] = await pair();
    const port = await openPort(a, { dataBits: 7, parity: 'even' });
    const flags = stty(a);
    expect(flags).toMatch(/ cs8 /);
    expect(flags).toMatch(/-parenb/);
    await expect(port.get()).rejects.toMatchObject({ code: 'ENOTTY' });
    await expect(port.set({ dtr: false })).rejects.toMatchObject({ code: 'ENOTTY' });
    // flush and drain work on a pty.
    await port.flush();
    await port.drain();
  });

  test('bad arguments are rejected before anything reaches the device', async () => {
    const [a] = await pair();
    const port = await openPort(a);
    await expect(port.read('x' as never, 0, 1)).rejects.toThrow(TypeError);
    await expect(port.read(Buffer.alloc(4), Number.NaN, 1)).rejects.toThrow('"offset" is not an integer got "NaN"');
    await expect(port.read(Buffer.alloc(4), 0, 8)).rejects.toThrow('buffer is too small');
    await expect(port.read(Buffer.alloc(4), 0, 0)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(port.write('x' as never)).rejects.toThrow(TypeError);
    await expect(port.update({} as never)).rejects.toThrow('"options.baudRate" is not a number');
    await expect(port.set(null as never)).rejects.toThrow(TypeError);
    expect(port.isOpen).toBe(true);
  });
});

describe('data', () => {
  test('1 MiB each way at once arrives whole (sha256 equal)', async () => {
    const [a, b] = await pair();
    const pa = await openPort(a);
    const pb = await openPort(b);
    const size = 1 << 20;
    const ab = randomBytes(size);
    const ba = randomBytes(size);
    const [gotB, gotA] = await Promise.all([readExactly(pb, size), readExactly(pa, size), pa.write(ab), pb.write(ba)]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(gotB)).toBe(sha(ab));
    expect(sha(gotA)).toBe(sha(ba));
  });

  test('a read pending across close() rejects with canceled: true, and so does a write waiting for room', async () => {
    const [a] = await pair();
    const port = await openPort(a);
    const reading = port.read(Buffer.alloc(8), 0, 8);
    // Nobody reads B: 4 MiB cannot all fit in the pty and socat's buffers.
    const writing = port.write(Buffer.alloc(4 << 20, 0x55));
    await port.close();
    await expect(reading).rejects.toMatchObject({ canceled: true, message: 'Port is not open' });
    await expect(writing).rejects.toMatchObject({ canceled: true });
  });

  test('with vmin 0 a read with nothing there waits for data instead of returning 0', async () => {
    const [a, b] = await pair();
    const port = await openPort(a, { vmin: 0 });
    const peer = openSync(b, 'r+');
    try {
      const buf = Buffer.alloc(8);
      const reading = port.read(buf, 0, 8);
      // Let the first empty read and the wait happen before data comes.
      await new Promise((r) => setImmediate(r));
      writeSync(peer, 'late');
      const { bytesRead } = await reading;
      expect(buf.toString('utf8', 0, bytesRead)).toBe('late');
    } finally {
      closeSync(peer);
    }
  });
});

// koffi's types are ESM; this test file compiles as CommonJS.
const koffi = createRequire(__filename)('koffi') as { load(lib: string): { func(signature: string): (...args: number[]) => number } };

/** Hangs up the tty at `path` (TIOCVHANGUP): what Linux's usb-serial driver does when the adapter is unplugged. */
function hangup(path: string): void {
  const ioctl = koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long request, unsigned long arg)');
  const fd = openSync(path, 'r+');
  try {
    expect(ioctl(fd, 0x5437 /* TIOCVHANGUP */, 0)).toBe(0);
  } finally {
    closeSync(fd);
  }
}

describe('a lost device', () => {
  test('a write after a hangup fails once with disconnect: true (EIO); every later operation with ERR_SERIALPORT_DISCONNECTED, unflagged', async () => {
    const [a] = await pair();
    const port = await openPort(a);
    hangup(a);
    const lost = await port.write(Buffer.from('x')).catch((e: unknown) => e);
    expect(lost).toMatchObject({ disconnect: true, canceled: false, code: 'EIO', syscall: 'write' });
    for (const op of [() => port.write(Buffer.from('y')), () => port.read(Buffer.alloc(1), 0, 1)]) {
      const e = await op().catch((e: unknown) => e);
      expect(e).toMatchObject({ code: 'ERR_SERIALPORT_DISCONNECTED', disconnect: false, cause: lost });
    }
    // close() still works and releases the port.
    await port.close();
    expect(port.isOpen).toBe(false);
  });

  test('reads pending on a hung-up tty: the first reports the disconnect (read() = 0 on a hung-up tty: code EOF), no second one', async () => {
    const [a] = await pair();
    const port = await openPort(a);
    const reading = port.read(Buffer.alloc(8), 0, 8).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    hangup(a);
    expect(await reading).toMatchObject({ disconnect: true, code: 'EOF', errno: -4095, syscall: 'read' });
    await expect(port.read(Buffer.alloc(8), 0, 8)).rejects.toMatchObject({ code: 'ERR_SERIALPORT_DISCONNECTED', disconnect: false });
  });
});

describe('list', () => {
  test('lists the serial ttys that have a device behind them, with USB ids from sysfs and pnpId from /dev/serial/by-id', async () => {
    const root = mkdtempSync(join(tmpdir(), 'aio-sysfs-'));
    const usb = join(root, 'sys/devices/pci0000:00/0000:00:14.0/usb1/1-2');
    const iface = join(usb, '1-2:1.0');
    mkdirSync(join(iface, 'ttyUSB0/tty/ttyUSB0'), { recursive: true });
    for (const [k, v] of Object.entries({ idVendor: '0403', idProduct: '6001', serial: 'A50285BI', manufacturer: 'FTDI' })) writeFileSync(join(usb, k), `${v}\n`);
    const platform = join(root, 'sys/devices/platform/serial8250');
    mkdirSync(platform, { recursive: true });
    mkdirSync(join(root, 'sys/class/tty'), { recursive: true });
    const tty = (name: string, device?: string) => {
      const dir = join(root, 'sys/devices/virtual/tty', name);
      mkdirSync(dir, { recursive: true });
      if (device) symlinkSync(device, join(dir, 'device'));
      symlinkSync(dir, join(root, 'sys/class/tty', name));
    };
    tty('ttyUSB0', join(iface, 'ttyUSB0'));
    tty('ttyS10', platform);
    tty('ttyS2', platform);
    tty('ttyS3'); // no device: a placeholder 8250 slot
    tty('tty1'); // a virtual console
    mkdirSync(join(root, 'dev/serial/by-id'), { recursive: true });
    symlinkSync('../../ttyUSB0', join(root, 'dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));
    const none = { manufacturer: undefined, serialNumber: undefined, pnpId: undefined, locationId: undefined, vendorId: undefined, productId: undefined };
    expect(await linuxList(root)).toEqual([
      { ...none, path: join(root, 'dev/ttyS2') },
      { ...none, path: join(root, 'dev/ttyS10') },
      { path: join(root, 'dev/ttyUSB0'), manufacturer: 'FTDI', serialNumber: 'A50285BI', pnpId: 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0', locationId: undefined, vendorId: '0403', productId: '6001' },
    ]);
  });

  test('list() on this machine answers without udev and every path it gives exists', async () => {
    const ports = await ReactorBinding.list();
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) expect(() => fstatSync(closeAfter(openSync(p.path, 'r', 0)))).not.toThrow();
  });
});

function closeAfter(fd: number): number {
  queueMicrotask(() => closeSync(fd));
  return fd;
}
