import { expect, test } from 'vitest';
import { startRecipe } from './helpers.mjs';

test('a raw-mode pty port exchanges lines with the device on its other end, byte for byte', async () => {
  const { code, stdout, stderr } = await startRecipe('serial.mjs').exited;
  expect(stderr).toBe('');
  expect(code).toBe(0);
  // In cooked mode the line discipline would echo the device's replies back
  // to it and turn CR into LF: these exact replies need raw mode.
  expect(stdout.split('\n')).toEqual([
    expect.stringMatching(/^port \/dev\/pts\/\d+ open, raw mode, 115200 baud$/),
    'sent "AT" -> got "OK 2 bytes: AT"',
    'sent "ATI" -> got "OK 3 bytes: ATI"',
    'sent "hello, device ✓" -> got "OK 17 bytes: hello, device ✓"',
    '',
  ]);
});
