import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { SerialPortStream } from '@serialport/stream';
import { ReadlineParser, SerialPort } from 'serialport';
import { afterEach, expect, test } from 'vitest';
import { autoDetect, ReactorBinding } from '../lib/index.js';
import { socatEcho, type Socat } from './helpers.js';

const running: Socat[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.kill();
});

async function echo(): Promise<string> {
  const s = await socatEcho();
  running.push(s);
  return s.paths[0]!;
}

function closed(port: SerialPortStream): Promise<unknown> {
  return new Promise((resolve, reject) => port.close((error) => (error ? reject(error) : resolve(undefined))));
}

test('autoDetect() is the reactor binding on this Unix', () => {
  expect(autoDetect()).toBe(ReactorBinding);
});

test("serialport's SerialPort with binding: ReactorBinding talks to echo firmware line by line", async () => {
  const path = await echo();
  // SerialPort's options type leaves `binding` out, though its constructor takes it (SerialPortStream's type has it).
  const port = new SerialPort({ binding: ReactorBinding, path, baudRate: 115200 } as ConstructorParameters<typeof SerialPort>[0]);
  await once(port, 'open');
  const lines = port.pipe(new ReadlineParser({ delimiter: '\r\n' }));
  const sent = Array.from({ length: 100 }, (_, i) => `AT+LINE=${i} ✓`);
  const got: string[] = [];
  const all = new Promise<void>((resolve) =>
    lines.on('data', (line: string) => {
      got.push(line);
      if (got.length === sent.length) resolve();
    }),
  );
  for (const line of sent) port.write(`${line}\r\n`);
  await all;
  expect(got).toEqual(sent);
  await closed(port);
  expect(port.isOpen).toBe(false);
});

test('@serialport/stream: 256 KiB through echo firmware comes back whole, with backpressure, and close() ends cleanly', async () => {
  const path = await echo();
  const port = new SerialPortStream({ binding: ReactorBinding, path, baudRate: 115200 });
  const errors: Error[] = [];
  port.on('error', (e) => errors.push(e));
  await once(port, 'open');
  const data = randomBytes(256 << 10);
  const chunks: Buffer[] = [];
  let received = 0;
  const back = new Promise<void>((resolve) =>
    port.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      if (received >= data.length) resolve();
    }),
  );
  for (let i = 0; i < data.length; i += 4096) {
    if (!port.write(data.subarray(i, i + 4096))) await once(port, 'drain');
  }
  await back;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  expect(sha(Buffer.concat(chunks))).toBe(sha(data));
  const closing = once(port, 'close');
  await closed(port);
  // A close asked for by the user: no disconnect error, no 'error' event
  // (the read pending in the binding was canceled).
  expect(await closing).toEqual([null]);
  expect(errors).toEqual([]);
});

test('settings through the stream: update() changes the baud rate the OS reports', async () => {
  const path = await echo();
  const port = new SerialPortStream({ binding: ReactorBinding, path, baudRate: 115200 });
  await once(port, 'open');
  await new Promise<void>((resolve, reject) => port.update({ baudRate: 19200 }, (e) => (e ? reject(e) : resolve())));
  expect(await port.port!.getBaudRate()).toEqual({ baudRate: 19200 });
  await closed(port);
});
