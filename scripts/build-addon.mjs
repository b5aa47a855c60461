#!/usr/bin/env node
// A backend's `build` step for its addon: node-gyp, incrementally and quietly.
// `node-gyp rebuild` cleans, configures and compiles every time (the addon
// linked on every `pnpm build`, ~70 lines of `gyp info` each); this configures
// only when what gyp expands has changed (binding.gyp, backend-core's source
// list, the Node headers' version) and otherwise lets make decide what is out
// of date, so a build with nothing changed links nothing. Tool output goes to
// build/node-gyp.log and is printed only when a step fails.
//
//   node ../../scripts/build-addon.mjs      (from a package with a binding.gyp)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const dir = process.cwd();
const require = createRequire(join(dir, 'package.json'));
const gypBin = require.resolve('node-gyp/bin/node-gyp.js');
const log = join(dir, 'build', 'node-gyp.log');
const stamp = join(dir, 'build', 'configured.sha256');

/** What a configure depends on: binding.gyp, the shared sources it expands, node-gyp and Node's ABI headers. */
function configureKey() {
  const core = require('@async-io/backend-core/gyp');
  const h = createHash('sha256');
  h.update(readFileSync(join(dir, 'binding.gyp')));
  h.update(JSON.stringify({ core, gyp: require('node-gyp/package.json').version, node: process.version }));
  return h.digest('hex');
}

function step(args) {
  const r = spawnSync(process.execPath, [gypBin, ...args, '--loglevel=warn'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  mkdirSync(join(dir, 'build'), { recursive: true });
  writeFileSync(log, `$ node-gyp ${args.join(' ')}\n${r.stdout}${r.stderr}`, { flag: 'a' });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}${r.stderr}\nnode-gyp ${args[0]} failed in ${dir} (log: ${log})\n`);
    process.exit(r.status ?? 1);
  }
}

const key = configureKey();
const configured = existsSync(join(dir, 'build', 'Makefile')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key;
if (existsSync(log)) writeFileSync(log, '');
if (!configured) {
  step(['configure']);
  writeFileSync(stamp, key);
}
step(['build']);
