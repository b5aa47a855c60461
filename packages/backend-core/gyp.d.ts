/**
 * For binding.gyp: the include directory of the async-io C contract, relative to the
 * current directory (node-gyp runs `<!(...)` commands from the addon's package root).
 *
 * @example
 * "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"]
 */
export declare const include: string;
