import { expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { fixture, inNamespaceOf, namespaceRefusal, start, recipe, skipBecause } from './helpers.mjs';

const refusal = existsSync('/dev/net/tun') ? namespaceRefusal(['-n'], ['ip']) : '/dev/net/tun does not exist';

test('a TUN device in a private network namespace answers UDP and ICMP echo by writing packets back', async (ctx) => {
  if (refusal) return skipBecause(ctx, refusal);
  const tun = start('unshare', ['-n', process.execPath, recipe('tun.mjs')]);
  try {
    await tun.waitFor(/is up as 192\.0\.2\.1\/24/);
    // The recipe's own UDP datagram went out through the device and came back.
    await tun.waitFor(/^udp 192\.0\.2\.1:\d+ -> 192\.0\.2\.2:7, 28 bytes: sent back$/m);
    await tun.waitFor(/^udp reply from 192\.0\.2\.2:7: "hello through the tun device"$/m);
    // An ICMP echo from inside the same namespace gets the recipe's reply.
    const ping = inNamespaceOf(tun.child.pid, ['-n'], process.execPath, [fixture('ping.mjs'), '192.0.2.2', '7']);
    expect(ping).toBe('icmp type 0 seq 7 from 192.0.2.2: "ping from the test"\n');
    await tun.waitFor(/^icmp echo request 192\.0\.2\.1 -> 192\.0\.2\.2 seq 7: answered$/m);
  } finally {
    const { code, stderr } = await tun.stop();
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }
});

test('the TUN recipe refuses a network namespace that has another interface', async (ctx) => {
  if (refusal) return skipBecause(ctx, refusal);
  // A namespace of our own with a second (persistent, unused) TUN device in it.
  const script = 'ip tuntap add mode tun name other0 && exec "$0" "$1"';
  const { code, stdout, stderr } = await start('unshare', ['-n', 'sh', '-c', script, process.execPath, recipe('tun.mjs')]).exited;
  expect(stdout).toBe('');
  expect(stderr).toMatch(/other interfaces \(other0\)/);
  expect(code).toBe(2);
});
