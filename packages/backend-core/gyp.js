// For binding.gyp: what a backend addon compiles from backend-core, as paths
// relative to the current directory (node-gyp runs `<!(...)` commands from the
// directory of the .gyp file).
'use strict';
const path = require('node:path');

const rel = (...parts) => path.relative(process.cwd(), path.join(__dirname, ...parts)).split(path.sep).join('/');

/** The include directory of the C contract (`async_io/backend.h`). */
exports.include = rel('include');
/** backend-core's C sources, compiled into every backend addon with its mechanism file. */
exports.sources = [
  'front.c', 'fd.c', 'napi.c', 'errors.c', 'shared.c', 'env.c', 'reactor.c', 'loop.c',
  'driver-nested.c', 'driver-thread.c', 'driver-external.c', 'handoff-uv.c', 'handoff-tsfn.c', 'side.c', 'constants.c',
  'select.c', 'pty.c',
].map((f) => rel('src', f));
/** The ENOSYS mechanism, compiled with a backend's `src/no-<mechanism>.c` where its kernel facility is missing. */
exports.stub = rel('src', 'stub.c');
