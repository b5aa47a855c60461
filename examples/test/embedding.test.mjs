import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { start, startRecipe } from './helpers.mjs';

test('with the external driver, Async waits resolve only through dispatch() called from the host loop', async () => {
  const { code, stdout, stderr } = await startRecipe('embedding.mjs').exited;
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const lines = stdout.trim().split('\n');
  expect(lines.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((i) => `sent "ping ${i}", got "pong ${i}"`));
  const [, wakes, events] = lines[5].match(/^(\d+) wake-ups from the host loop; dispatch\(\) delivered (\d+) events$/);
  // Each round trip needs the echo side woken, then the client: at least one
  // wake-up and two events apiece, and nothing but dispatch() delivers them.
  expect(Number(wakes)).toBeGreaterThanOrEqual(5);
  expect(Number(events)).toBeGreaterThanOrEqual(10);
});

test('on the poll backend the embedding recipe says there is no reactor fd', async () => {
  const { code, stdout } = await startRecipe('embedding.mjs', [], { env: { ...process.env, ASYNC_IO_BACKEND: 'poll' } }).exited;
  expect(code).toBe(0);
  expect(stdout).toBe('the poll backend has no reactor fd: nothing to embed\n');
});

const demo = fileURLToPath(new URL('../demo.mjs', import.meta.url));
for (const backend of [undefined, 'poll']) {
  test(`the README demo moves its 8 MB intact${backend ? ` (ASYNC_IO_BACKEND=${backend})` : ''}`, async () => {
    const env = { ...process.env, ASYNC_IO_BACKEND: backend };
    if (!backend) delete env.ASYNC_IO_BACKEND;
    const { code, stdout } = await start(process.execPath, [demo], { env }).exited;
    expect(stdout).toMatch(/^checked {3}sha256 of every stream matches: yes$/m);
    if (!backend) expect(stdout).toMatch(/^embedding \d+ wake-ups from the Worker's poller on reactorFd\(\)/m);
    expect(code).toBe(0);
  });
}
