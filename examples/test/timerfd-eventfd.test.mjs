import { expect, test } from 'vitest';
import { startRecipe } from './helpers.mjs';

test('timerfd reads count expirations and eventfd reads sum what a Worker wrote', async () => {
  const { code, stdout, stderr } = await startRecipe('timerfd-eventfd.mjs').exited;
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const timer = [...stdout.matchAll(/^timerfd: (\d+) expiration\(s\), (\d+) in all$/gm)];
  const counter = [...stdout.matchAll(/^eventfd: read (\d+), (\d+) in all$/gm)];
  // Every read returned a positive count, and the running totals add up.
  expect(timer.length).toBeGreaterThan(0);
  expect(timer.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(Number(timer.at(-1)[2]));
  expect(Number(timer.at(-1)[2])).toBeGreaterThanOrEqual(5);
  expect(counter.every((m) => Number(m[1]) > 0)).toBe(true);
  expect(counter.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(15);
  expect(stdout).toMatch(new RegExp(`^done: ${timer.at(-1)[2]} timer expirations, eventfd total 15$`, 'm'));
});
