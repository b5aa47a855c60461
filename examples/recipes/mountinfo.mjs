// Priority events: watch the mount table through /proc/self/mountinfo.
//
//   node mountinfo.mjs      then, as root elsewhere: mount -t tmpfs none /mnt; umount /mnt
//
// The kernel signals a change of the mount table as POLLPRI (with POLLERR)
// on an open /proc/self/mountinfo, once per change. sysfs attribute files
// signal the same way (a GPIO's `value` with edge detection on, a
// power_supply status...). `await handle.priority()` waits for it; the
// table is then re-read from the start and compared with the last copy.
// Ctrl-C stops it.
import { openSync, readSync } from 'node:fs';
import { Async } from '@async-io/reactor';

/** The mount table: mount id -> "mountpoint (fstype source)". */
function mounts(fd) {
  const chunks = [];
  const buf = Buffer.alloc(64 * 1024);
  for (let pos = 0, n; (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) chunks.push(Buffer.from(buf.subarray(0, n)));
  const table = new Map();
  for (const line of Buffer.concat(chunks).toString().split('\n').filter(Boolean)) {
    // id parent major:minor root mountpoint options [optional...] - fstype source super-options
    const fields = line.split(' ');
    const rest = fields.slice(fields.indexOf('-') + 1);
    const where = fields[4].replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
    table.set(fields[0], `${where} (${rest[0]} ${rest[1]})`);
  }
  return table;
}

const handle = new Async(openSync('/proc/self/mountinfo', 'r'), { ownsFd: true });
let table = mounts(handle.fd);
const stop = new AbortController();
process.once('SIGINT', () => stop.abort()).once('SIGTERM', () => stop.abort());
console.log(`watching ${table.size} mounts`);
try {
  for (;;) {
    await handle.priority({ signal: stop.signal });
    const now = mounts(handle.fd);
    for (const [id, mount] of now) if (table.get(id) !== mount) console.log(`mounted ${mount}`);
    for (const [id, mount] of table) if (now.get(id) !== mount) console.log(`unmounted ${mount}`);
    table = now;
  }
} catch (error) {
  if (error.name !== 'AbortError') throw error;
} finally {
  handle.close();
}
