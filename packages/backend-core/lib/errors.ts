/** Errors shaped like Node's own: a `code`, and for system errors `errno` and `syscall`. */

export interface CodedError extends Error {
  code: string;
}

export interface SystemErrorLike extends CodedError {
  errno: number;
  syscall: string;
}

function describe(value: unknown): string {
  if (value === null) return 'Received null';
  if (value === undefined) return 'Received undefined';
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `Received an instance of ${ctor}` : 'Received an object';
  }
  let shown = String(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  if (typeof value === 'string') shown = `'${shown}'`;
  return `Received type ${typeof value} (${shown})`;
}

function coded<E extends Error>(error: E, code: string): E & CodedError {
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return error as E & CodedError;
}

/** `TypeError` with code `ERR_INVALID_ARG_TYPE`. */
export function invalidArgType(name: string, expected: string, value: unknown): TypeError & CodedError {
  return coded(new TypeError(`The "${name}" argument must be ${expected}. ${describe(value)}`), 'ERR_INVALID_ARG_TYPE');
}

/** `RangeError` with code `ERR_OUT_OF_RANGE`. */
export function outOfRange(name: string, range: string, value: unknown): RangeError & CodedError {
  return coded(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`),
    'ERR_OUT_OF_RANGE',
  );
}

/** `TypeError` with code `ERR_INVALID_ARG_VALUE`. */
export function invalidArgValue(name: string, value: unknown, reason: string): TypeError & CodedError {
  return coded(
    new TypeError(`The argument '${name}' ${reason}. Received ${JSON.stringify(value) ?? String(value)}`),
    'ERR_INVALID_ARG_VALUE',
  );
}

/** `Error` with an arbitrary code, e.g. `ERR_POLLER_CLOSED`. */
export function codedError(code: string, message: string): Error & CodedError {
  return coded(new Error(message), code);
}

/** A `SystemError`-shaped error: `"ENOTSUP: operation not supported, epoll_ctl"`. */
export function systemError(code: string, errno: number, syscall: string, description: string): SystemErrorLike {
  const error = coded(new Error(`${code}: ${description}, ${syscall}`), code) as SystemErrorLike;
  error.errno = errno;
  error.syscall = syscall;
  return error;
}
