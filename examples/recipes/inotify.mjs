// inotify: watch a directory and decode the kernel's event records.
//
//   node inotify.mjs [dir]          (default: the current directory)
//
// Prints one line per event as files are created, written, renamed and
// deleted in `dir`, until Ctrl-C or until `dir` itself goes away. koffi calls
// inotify_init1 and inotify_add_watch; Async reads the fd. Each read()
// returns whole records, back to back:
//   struct inotify_event { int wd; uint32_t mask, cookie, len; char name[len]; }
// where `name` is NUL-padded to `len` and a rename is a MOVED_FROM/MOVED_TO
// pair sharing one `cookie`.
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';
import { Async } from '@async-io/reactor';

const libc = koffi.load('libc.so.6');
const inotify_init1 = libc.func('int inotify_init1(int flags)');
const inotify_add_watch = libc.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)');
const IN_CLOEXEC = 0o2000000; // Async adds O_NONBLOCK
const IN = { MODIFY: 0x2, CLOSE_WRITE: 0x8, MOVED_FROM: 0x40, MOVED_TO: 0x80, CREATE: 0x100, DELETE: 0x200, DELETE_SELF: 0x400, Q_OVERFLOW: 0x4000, IGNORED: 0x8000 };
const IN_ISDIR = 0x40000000;

/** A libc result, or a Node-style error from errno. */
function check(result, syscall) {
  if (result >= 0) return result;
  const errno = -koffi.errno();
  throw Object.assign(new Error(`${getSystemErrorName(errno)}: ${syscall} failed`), { code: getSystemErrorName(errno), errno, syscall });
}

const dir = process.argv[2] ?? '.';
const inotify = new Async(check(inotify_init1(IN_CLOEXEC), 'inotify_init1'), { ownsFd: true });
const wanted = IN.MODIFY | IN.CLOSE_WRITE | IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE | IN.DELETE | IN.DELETE_SELF;
check(inotify_add_watch(inotify.fd, dir, wanted), 'inotify_add_watch');
const stop = new AbortController();
process.once('SIGINT', () => stop.abort()).once('SIGTERM', () => stop.abort());
console.log(`watching ${dir}`);

// Records are 4-byte aligned and in host byte order: read them as uint32s.
const buf = Buffer.alloc(64 * 1024);
const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
try {
  for (let gone = false; !gone; ) {
    const n = await inotify.read(buf, { signal: stop.signal });
    for (let off = 0; off < n; ) {
      const [wd, mask, cookie, len] = words.subarray(off / 4, off / 4 + 4);
      const name = buf.toString('utf8', off + 16, off + 16 + len).replace(/\0+$/, '');
      const what = Object.keys(IN).filter((k) => mask & IN[k]).map((k) => k.toLowerCase());
      const rename = mask & (IN.MOVED_FROM | IN.MOVED_TO) ? ` (cookie ${cookie})` : '';
      console.log(`${what.join('|')} ${name ? name + (mask & IN_ISDIR ? '/' : '') : `(watch ${wd})`}${rename}`);
      if (mask & IN.IGNORED) gone = true; // the watch is gone: dir was deleted or unmounted
      off += 16 + len;
    }
  }
} catch (error) {
  if (error.name !== 'AbortError') throw error;
} finally {
  inotify.close();
}
