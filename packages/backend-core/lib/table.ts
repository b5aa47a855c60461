/**
 * The one table of backends. Selection, types, the test matrix and the docs
 * are all derived from it; there is no second list anywhere. Files that
 * cannot import it (tsconfig.json references, the facade's dependencies,
 * .changeset/config.json) are written from it by `node scripts/sync-table.mjs`,
 * and backend-core's one-table test fails when anything drifts from it.
 */
export const BACKENDS = [
  {
    name: 'epoll',
    package: '@async-io/linux-epoll',
    platforms: ['linux', 'android'],
    // The driver is not listed: the facade probes at start-up whether this
    // poller nests in another of its kind (see reactor.c).
    hasFd: true,
    capabilities: { level: true, edge: true, priority: true },
  },
  {
    name: 'kqueue',
    package: '@async-io/bsd-kqueue',
    platforms: ['darwin', 'freebsd', 'openbsd', 'netbsd'],
    hasFd: true,
    // EVFILT_EXCEPT/NOTE_OOB: macOS and OpenBSD have it, FreeBSD and NetBSD not: ask the addon.
    capabilities: { level: true, edge: true, priority: 'os-dependent' },
  },
  {
    name: 'event-ports',
    package: '@async-io/solaris-ports',
    platforms: ['sunos'],
    hasFd: true,
    capabilities: { level: true, edge: false, priority: true },
  },
  {
    name: 'poll',
    package: '@async-io/poll-fallback',
    // Any Unix: the fallback everywhere the others are missing.
    platforms: ['aix', 'cygwin', 'haiku'],
    hasFd: false,
    capabilities: { level: true, edge: false, priority: true },
  },
] as const;

export type BackendInfoRow = (typeof BACKENDS)[number];
export type BackendName = BackendInfoRow['name'];
export type BackendPackage = BackendInfoRow['package'];
export type DriverName = 'nested' | 'thread' | 'external';

/** How the facade's reactor can be driven (README "Drivers"); the numbers the addon takes are its `constants.drivers`. */
export const DRIVER_NAMES: readonly DriverName[] = ['nested', 'thread', 'external'];

export const BACKEND_NAMES: readonly BackendName[] = BACKENDS.map((b) => b.name);

/** The backend used on any Unix no other serves, and where the platform's own cannot load. */
export const FALLBACK_BACKEND: BackendName = 'poll';

/**
 * Whether `name` can serve `platform` (a `process.platform` value): its own
 * platforms, or any but Windows for the fallback.
 *
 * @example servesPlatform('kqueue', 'darwin') // true
 */
export function servesPlatform(name: BackendName, platform: string): boolean {
  if (platform === 'win32') return false;
  if (name === FALLBACK_BACKEND) return true;
  return (backendRow(name)!.platforms as readonly string[]).includes(platform);
}

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
  return FALLBACK_BACKEND;
}
