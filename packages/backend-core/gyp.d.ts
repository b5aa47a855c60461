/**
 * For binding.gyp: the include directory of the async-io C contract, relative to the
 * current directory (node-gyp runs `<!(...)` commands from the directory of the .gyp file).
 *
 * @example
 * "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"]
 */
export declare const include: string;
/**
 * backend-core's C sources (the front, the N-API glue, the fd helpers, the drivers), which
 * every backend addon compiles with its own `src/<mechanism>.c`.
 *
 * @example
 * "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")"]
 */
export declare const sources: readonly string[];
/**
 * The ENOSYS mechanism, compiled with a backend's `src/no-<mechanism>.c` on an OS that lacks
 * its kernel facility.
 *
 * @example
 * { "sources": ["src/no-epoll.c", "<!(node -p \"require('@async-io/backend-core/gyp').stub\")"] }
 */
export declare const stub: string;
