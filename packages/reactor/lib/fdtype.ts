/**
 * Which files readiness applies to, decided the same way on every backend.
 * epoll refuses regular files, directories and block devices (EPERM) while
 * poll, kqueue and event ports call them always ready: code written on one
 * OS would break on another, and a "ready" disk file still blocks the loop
 * on I/O. So they are refused everywhere with ERR_INVALID_FD_TYPE — except
 * the pseudo files of procfs, sysfs and their kin, whose poll() reports
 * changes (priority on /proc/self/mountinfo), where `pseudo` allows them.
 * @internal
 */
import { statfsSync } from 'node:fs';

/** statfs f_type of Linux's pseudo filesystems whose files report changes through poll(). */
const PSEUDO_FS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x63677270, // cgroup2
  0x27e0eb, // cgroup
  0x64626720, // debugfs
  0x74726163, // tracefs
  0x73636673, // securityfs
]);

function onPseudoFs(fd: number): boolean {
  if (process.platform !== 'linux' || typeof statfsSync !== 'function') return false;
  try {
    return PSEUDO_FS.has(statfsSync(`/proc/self/fd/${fd}`).type);
  } catch {
    return false;
  }
}

/**
 * Throws ERR_INVALID_FD_TYPE for a regular file, directory or block device
 * (a regular file of a pseudo filesystem passes where `pseudo` is true).
 * @internal
 */
export function refuseUnpollable(fd: number, kind: string, pseudo: boolean): void {
  if (kind !== 'file' && kind !== 'directory' && kind !== 'block') return;
  if (kind === 'file' && pseudo && onPseudoFs(fd)) return;
  throw Object.assign(
    new TypeError(`Unsupported fd type: ${kind.toUpperCase()} (fd ${fd}: readiness does not apply to it; use node:fs)`),
    { code: 'ERR_INVALID_FD_TYPE' },
  );
}
