#!/usr/bin/env node
// A backend's prepack/postpack: its binding.gyp travels in the tarball as
// src/binding.gyp, not at the package root. pnpm 10 treats a root binding.gyp
// as an install script ("Ignored build scripts" on every install) even with
// "gypfile": false, and npm would compile from it; with a prebuild for the
// platform neither is wanted. Where no prebuild fits, the loader's error says
// how to compile: copy src/binding.gyp back to the root and run node-gyp.
//
//   node ../../scripts/pack-gyp.mjs           (prepack: copy)
//   node ../../scripts/pack-gyp.mjs --clean   (postpack: remove the copy)
import { copyFileSync, rmSync } from 'node:fs';

if (process.argv.includes('--clean')) rmSync('src/binding.gyp', { force: true });
else copyFileSync('binding.gyp', 'src/binding.gyp');
