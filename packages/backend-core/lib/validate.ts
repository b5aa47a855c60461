import { invalidArgType, outOfRange } from './errors.js';

/** Largest key a user may pass; 2^32-1 is reserved for the backend's wake-up. */
export const MAX_KEY = 0xffff_fffe;
export const RESERVED_KEY = 0xffff_ffff;

/** Throws unless `value` is an integer in [min, max]. */
export function validateInteger(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

/** File descriptors are non-negative 32-bit integers. */
export function validateFd(fd: unknown, name = 'fd'): asserts fd is number {
  validateInteger(fd, name, 0, 0x7fff_ffff);
}

export function validateKey(key: unknown): asserts key is number {
  if (key === RESERVED_KEY) {
    throw outOfRange('key', `>= 0 && <= ${MAX_KEY} (${RESERVED_KEY} is reserved for notify)`, key);
  }
  validateInteger(key, 'key', 0, MAX_KEY);
}

/**
 * Timeouts in milliseconds, fractional allowed; `null`/`undefined`/`Infinity`
 * mean no limit. Returns the value the native side takes (-1 = no limit).
 */
export function timeoutArg(timeout: unknown, name = 'timeoutMs'): number {
  if (timeout === null || timeout === undefined || timeout === Infinity) return -1;
  if (typeof timeout !== 'number') throw invalidArgType(name, 'of type number, null or undefined', timeout);
  if (Number.isNaN(timeout) || timeout < 0) throw outOfRange(name, '>= 0, null or undefined', timeout);
  return timeout;
}

/** Throws unless `buf` is a Buffer, TypedArray or DataView. */
export function validateBuffer(buf: unknown, name = 'buffer'): asserts buf is ArrayBufferView {
  if (!ArrayBuffer.isView(buf)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', buf);
}
