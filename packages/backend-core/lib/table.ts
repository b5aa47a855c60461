/**
 * The one table of backends. Selection, types, the test matrix and the docs
 * are all derived from it; there is no second list anywhere.
 */
export const BACKENDS = [
  {
    name: 'epoll',
    package: '@async-io/linux-epoll',
    platforms: ['linux', 'android'],
    hasFd: true,
    driver: 'nested',
    capabilities: { level: true, edge: true, priority: true },
  },
  {
    name: 'kqueue',
    package: '@async-io/bsd-kqueue',
    platforms: ['darwin', 'freebsd', 'openbsd', 'netbsd'],
    hasFd: true,
    // Nesting a kqueue fd in libuv's own kqueue is unreliable on macOS.
    driver: 'thread',
    // EVFILT_EXCEPT/NOTE_OOB: macOS and OpenBSD have it, FreeBSD and NetBSD not: ask the addon.
    capabilities: { level: true, edge: true, priority: 'os-dependent' },
  },
  {
    name: 'event-ports',
    package: '@async-io/solaris-ports',
    platforms: ['sunos'],
    hasFd: true,
    driver: 'nested',
    capabilities: { level: true, edge: false, priority: true },
  },
  {
    name: 'poll',
    package: '@async-io/poll-fallback',
    // Any Unix: the fallback everywhere the others are missing.
    platforms: ['aix', 'cygwin', 'haiku'],
    hasFd: false,
    driver: 'thread',
    capabilities: { level: true, edge: false, priority: true },
  },
] as const;

export type BackendInfoRow = (typeof BACKENDS)[number];
export type BackendName = BackendInfoRow['name'];
export type BackendPackage = BackendInfoRow['package'];
export type DriverName = 'nested' | 'thread' | 'external';

export const BACKEND_NAMES: readonly BackendName[] = BACKENDS.map((b) => b.name);

/** The table row for `name`, or `undefined` for an unknown name. */
export function backendRow(name: string): BackendInfoRow | undefined {
  return BACKENDS.find((b) => b.name === name);
}

/**
 * The backend preferred on `platform` (a `process.platform` value).
 * Returns `null` on Windows, which no backend serves.
 *
 * @example preferredBackend('darwin') // 'kqueue'
 */
export function preferredBackend(platform: string): BackendName | null {
  if (platform === 'win32') return null;
  for (const b of BACKENDS) {
    if ((b.platforms as readonly string[]).includes(platform)) return b.name;
  }
  return 'poll';
}
