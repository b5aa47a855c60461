import { existsSync } from 'node:fs';
import { expect, test } from 'vitest';
import { startRecipe } from './helpers.mjs';

test('the GPIO loop reports every press and release written into the FIFO stand-in, then cleans up', async () => {
  const { code, stdout, stderr } = await startRecipe('gpio.mjs').exited;
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const [first, ...edges] = stdout.trim().split('\n');
  expect(first).toMatch(/^watching \/.*\/value$/);
  expect(edges).toEqual(['pressed', 'released', 'pressed', 'released', 'pressed', 'released']);
  expect(existsSync(first.slice('watching '.length))).toBe(false); // the FIFO is gone
});

test('a pin that does not exist is a coded error (ENOENT)', async () => {
  const { code, stderr } = await startRecipe('gpio.mjs', ['/sys/class/gpio/gpio-recipe-none/value']).exited;
  expect(code).toBe(1);
  expect(stderr).toMatch(/code: 'ENOENT'/);
});
