import { codedError } from './errors.js';
import { FLAG_ERROR, FLAG_GONE, FLAG_HANGUP, FLAG_PRIORITY, FLAG_READABLE, FLAG_WRITABLE } from './events.js';
import { defineFdHelpers, type FdHelpers } from './fd.js';
import { loadAddon } from './load.js';
import type { NativeAddon, NativeHandle } from './native.js';
import { definePoller, type Poller, type PollerClass } from './poller.js';
import { RESERVED_KEY } from './validate.js';

/**
 * Everything a backend package is built from its addon: what its published
 * index exports (`Poller` and the fd helpers) and what only the facade and
 * the tests reach, through the package's `/internal` subpath.
 */
export interface BackendModule extends FdHelpers {
  Poller: PollerClass;
  /** A `Poller` over a native reference (`native.reactorPoller(r)`), which it takes over. */
  adopt(handle: NativeHandle): Poller;
  /** The raw addon, for the facade's reactor. */
  native: NativeAddon;
  /** Which .node file was loaded, and whether it was a prebuild. */
  binary: { file: string; prebuilt: boolean };
}

/**
 * Loads `packageRoot`'s addon and builds the backend's module.
 *
 * @example
 * // packages/linux-epoll/lib/internal.ts
 * export = defineBackend(path.join(__dirname, '..'));
 */
export function defineBackend(packageRoot: string): BackendModule {
  return fromAddon(loadAddon(packageRoot));
}

/** The same from an addon loaded some other way (test builds, emulations). */
export function fromAddon(loaded: { addon: NativeAddon; file: string; prebuilt: boolean }): BackendModule {
  checkConstants(loaded.addon, loaded.file);
  const { Poller, adopt } = definePoller(loaded.addon);
  return {
    ...defineFdHelpers(loaded.addon),
    Poller,
    adopt,
    native: loaded.addon,
    binary: { file: loaded.file, prebuilt: loaded.prebuilt },
  };
}

/**
 * The event flags and the reserved key are public values (`Events.flagsAt`,
 * the facade's `WatchFlags`, `RangeError` messages) that exist before any
 * addon loads; every addon must agree with them, else it was built from
 * another backend-core and is refused with ERR_ASYNC_IO_ADDON_MISMATCH.
 */
function checkConstants(addon: NativeAddon, file: string): void {
  const c = addon.constants;
  const ours = { readable: FLAG_READABLE, writable: FLAG_WRITABLE, priority: FLAG_PRIORITY, hangup: FLAG_HANGUP, error: FLAG_ERROR, gone: FLAG_GONE };
  const same =
    c !== null &&
    typeof c === 'object' &&
    c.notifyKey === RESERVED_KEY &&
    Object.entries(ours).every(([k, v]) => c.flags?.[k as keyof typeof ours] === v);
  if (!same) {
    throw codedError(
      'ERR_ASYNC_IO_ADDON_MISMATCH',
      `${file} was built from another version of @async-io/backend-core (its constants differ); rebuild it or reinstall the package`,
    );
  }
}
