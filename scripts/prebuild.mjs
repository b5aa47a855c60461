#!/usr/bin/env node
// `pnpm prebuild` in a backend package: prebuildify --napi --strip, but only
// on an OS the package's published manifest allows (publishConfig.os), so a
// Linux run never produces a linux-x64 prebuild of the kqueue or event-ports
// stub. Run from the package directory.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const os = manifest.publishConfig?.os ?? manifest.os;
if (os && !os.includes(process.platform)) {
  console.log(`${manifest.name}: no prebuild on ${process.platform} (published for ${os.join(', ')})`);
  process.exit(0);
}
const require = createRequire(`${process.cwd()}/package.json`);
const r = spawnSync(process.execPath, [require.resolve('prebuildify/bin.js'), '--napi', '--strip', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
