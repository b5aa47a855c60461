// Character devices on kernels whose pollers refuse or misreport them, run
// here with a real pty and a real shell: macOS poll() answers POLLNVAL for
// devices (poll(2) BUGS; termbox2#31, serial-rs#53, fzf#4653), reproduced by
// preloading test/interpose/macos_poll.c into the child, and macOS kqueue
// refuses /dev/tty with EINVAL (oven-sh/bun#24162, mio#1377, crossterm#996),
// reproduced on the kqueue emulation by its device-einval quirk. Async,
// ready() and watch() must read every line on every driver, with no EBADF
// and no lost wake-up: the library's select() path serves such fds.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED_BACKEND, runFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'async-io-devices-'));
const preload = join(dir, 'macos_poll.so');

beforeAll(() => {
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', preload, join(__dirname, 'interpose', 'macos_poll.c'), '-ldl']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (tag: string) => [1, 2, 3, 4, 5].map((i) => `${tag}${i}`);
const drivers: [string, string, NodeJS.ProcessEnv][] = [
  ['auto', 'auto', {}],
  ['thread (no libuv: thread-safe function hand-off)', 'auto', { ASYNC_IO_NO_LIBUV: '1' }],
  ['external', 'external', {}],
];

describe.runIf(process.platform === 'linux')(`a pty while poll() answers POLLNVAL for devices (macOS), on ${EXPECTED_BACKEND}`, () => {
  for (const [name, mode, env] of drivers) {
    it(`${name}: Async#readWith(), ready() and watch() get all five lines of a shell`, async () => {
      const r = await runFixture('pty-device.cjs', [mode], {
        ...env,
        LD_PRELOAD: preload,
        // the kqueue emulation also refuses devices as macOS kqueue does
        KQ_SHIM_QUIRKS: 'device-einval',
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.backend).toBe(EXPECTED_BACKEND);
      expect(out.async).toEqual({ lines: lines('async'), writable: true });
      expect(out.watch).toEqual({ lines: lines('watch'), called: true });
    });
  }
});
