// Vitest globalSetup of an emulated backend's project (vitest.shared.mjs):
// builds that backend's test addon, its real mechanism file compiled against
// the Linux kernel shim in <package>/test/shim, before any test loads it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { backends } from './backends.mjs';

/** @param {import('vitest/node').TestProject} project */
export default function buildShim(project) {
  const name = project.config.env.ASYNC_IO_EMULATE;
  const row = backends().find((b) => b.name === name);
  if (!row) throw new Error(`ASYNC_IO_EMULATE=${name}: no such backend in the table`);
  const nodeGyp = createRequire(join(row.dir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', '-C', join(row.dir, 'test', 'shim')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the ${name} emulation failed:\n${r.stdout}\n${r.stderr}`.slice(-4000));
}
