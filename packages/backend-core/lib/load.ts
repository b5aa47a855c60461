import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
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
  let file: string;
  try {
    file = nodeGypBuild.resolve(packageRoot);
  } catch (error) {
    throw withBuildHint(error, packageRoot);
  }
  const addon = requireHere(file) as NativeAddon;
  return { addon, file, prebuilt: /[\\/]prebuilds[\\/]/.test(file) };
}

/**
 * node-gyp-build's "No native build was found for platform=... arch=..." with the steps
 * that compile one from the sources the package ships (its binding.gyp travels as
 * src/binding.gyp so that installs with a prebuild run no compiler). The first line
 * stays node-gyp-build's, which the facade's fallback recognises.
 */
function withBuildHint(error: unknown, packageRoot: string): unknown {
  const e = error as Error;
  if (!/^No native build was found/.test(String(e?.message))) return error;
  const gyp = existsSync(join(packageRoot, 'binding.gyp')) ? '' : 'cp src/binding.gyp binding.gyp && ';
  e.message =
    `${e.message.trimEnd()}\n` +
    `    No prebuilt binary fits this system. To compile one from the shipped C sources\n` +
    `    (needs a C compiler, make and python3):\n` +
    `      cd ${JSON.stringify(packageRoot)} && ${gyp}npx --yes node-gyp rebuild\n`;
  return e;
}
