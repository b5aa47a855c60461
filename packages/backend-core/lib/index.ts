/**
 * @async-io/backend-core — the published surface: the one backend table and
 * the types every backend's `Poller` shares. What only sibling packages use
 * (the addon's type, the loaders, the argument checks) is in
 * `@async-io/backend-core/internal`.
 */
export {
  BACKENDS,
  BACKEND_NAMES,
  DRIVER_NAMES,
  FALLBACK_BACKEND,
  backendRow,
  preferredBackend,
  servesPlatform,
  type BackendInfoRow,
  type BackendName,
  type BackendPackage,
  type DriverName,
} from './table.js';
export { Events, type PollEvent } from './events.js';
export type { Interest, Poller, PollerClass, PollMode, SharedPoller } from './poller.js';
export type { FdHelpers, SocketType } from './fd.js';
