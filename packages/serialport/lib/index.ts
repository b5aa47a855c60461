/**
 * @async-io/serialport — a `serialport` binding whose reads and writes go
 * through the async-io reactor: safe in Worker threads, under Bun and Deno,
 * and never queued behind the thread pool.
 *
 * @example
 * import { SerialPort } from 'serialport';
 * import { autoDetect } from '@async-io/serialport';
 * const port = new SerialPort({ binding: autoDetect(), path: '/dev/ttyUSB0', baudRate: 115200 });
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import { ReactorBinding } from './binding.js';

export { ReactorBinding, ReactorPortBinding, SerialPortError, type ReactorOpenOptions } from './binding.js';
export { linuxList } from './list.js';
export type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface';

/**
 * The binding for this platform: {@link ReactorBinding} on every Unix, and
 * bindings-cpp's `WindowsBinding`, unchanged, on Windows (which has no fd to
 * wait on; its overlapped I/O does not use the thread pool either).
 *
 * @example const binding = autoDetect(); const ports = await binding.list();
 */
export function autoDetect(): BindingInterface {
  if (process.platform === 'win32') {
    return (require('@serialport/bindings-cpp') as { WindowsBinding: BindingInterface }).WindowsBinding;
  }
  return ReactorBinding as unknown as BindingInterface;
}
