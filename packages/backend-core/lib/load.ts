import { createRequire } from 'node:module';
import type { NativeAddon } from './native.js';

const requireHere = createRequire(__filename);

export interface LoadedAddon {
  addon: NativeAddon;
  /** Absolute path of the .node file that was loaded. */
  file: string;
  /** True when it came from prebuilds/, false when compiled into build/. */
  prebuilt: boolean;
}

/**
 * Loads a backend package's addon with node-gyp-build (build/ first, then
 * prebuilds/) and reports which file it was.
 */
export function loadAddon(packageRoot: string): LoadedAddon {
  const nodeGypBuild = requireHere('node-gyp-build') as {
    (dir: string): NativeAddon;
    resolve(dir: string): string;
  };
  const file = nodeGypBuild.resolve(packageRoot);
  const addon = requireHere(file) as NativeAddon;
  return { addon, file, prebuilt: /[\\/]prebuilds[\\/]/.test(file) };
}
