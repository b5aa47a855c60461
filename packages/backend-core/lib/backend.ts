import { defineFdHelpers, type FdHelpers } from './fd.js';
import { loadAddon } from './load.js';
import type { NativeAddon } from './native.js';
import { definePoller, type PollerClass } from './poller.js';

/** Everything a backend package exports, built from its addon. */
export interface BackendModule extends FdHelpers {
  Poller: PollerClass;
  /** The raw addon, for the facade's reactor. */
  native: NativeAddon;
  /** Which .node file was loaded, and whether it was a prebuild. */
  binary: { file: string; prebuilt: boolean };
}

/**
 * Loads `packageRoot`'s addon and builds the backend's public module.
 *
 * @example
 * // packages/linux-epoll/lib/index.ts
 * const backend = defineBackend(path.join(__dirname, '..'));
 */
export function defineBackend(packageRoot: string): BackendModule {
  return fromAddon(loadAddon(packageRoot));
}

/** The same from an addon loaded some other way (test builds, emulations). */
export function fromAddon(loaded: { addon: NativeAddon; file: string; prebuilt: boolean }): BackendModule {
  return {
    ...defineFdHelpers(loaded.addon),
    Poller: definePoller(loaded.addon),
    native: loaded.addon,
    binary: { file: loaded.file, prebuilt: loaded.prebuilt },
  };
}
