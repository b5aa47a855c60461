#!/usr/bin/env node
// Writes dist/index.mjs and dist/index.d.mts: an ESM face over the CommonJS
// build, so that ESM and CJS users share one module instance (and one reactor).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = join(process.cwd(), 'dist');
for (const entry of process.argv.slice(2).length ? process.argv.slice(2) : ['index']) {
  writeFileSync(join(dist, `${entry}.mjs`), `export * from './${entry}.js';\n`);
  writeFileSync(join(dist, `${entry}.d.mts`), `export * from './${entry}.js';\n`);
}
