import { expect, test } from 'vitest';
import { inNamespaceOf, namespaceRefusal, recipe, skipBecause, start } from './helpers.mjs';

const refusal = namespaceRefusal(['-n'], ['ip']);

test('the netlink monitor prints link changes made in its private network namespace', async (ctx) => {
  if (refusal) return skipBecause(ctx, refusal);
  const monitor = start('unshare', ['-n', process.execPath, recipe('netlink.mjs')]);
  const ip = (...args) => inNamespaceOf(monitor.child.pid, ['-n'], 'ip', args);
  try {
    await monitor.waitFor(/^watching link changes$/m);
    ip('link', 'set', 'lo', 'up');
    await monitor.waitFor(/^new link 1 lo: <UP,RUNNING,LOWER_UP> operstate \w+$/m);
    ip('link', 'set', 'lo', 'down');
    await monitor.waitFor(/^new link 1 lo: <> operstate \w+$/m);
    ip('tuntap', 'add', 'mode', 'tun', 'name', 'recipe0');
    await monitor.waitFor(/^new link (\d+) recipe0: <> operstate down$/m);
    ip('link', 'del', 'recipe0');
    await monitor.waitFor(/^deleted link \d+ recipe0: /m);
  } finally {
    const { code, stderr } = await monitor.stop();
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }
});
