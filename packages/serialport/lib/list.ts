import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PortInfo } from '@serialport/bindings-interface';

/** The tty names bindings-cpp lists on Linux (its `linux-list.ts`), so both list the same ports. */
const SERIAL_NAME = /^(tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB)|rfcomm)/;

function attribute(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The nearest USB device above a tty's device in sysfs (the directory that has `idVendor`). */
function usbDevice(device: string, sys: string): string | undefined {
  for (let dir = device; dir.startsWith(sys) && dir !== sys; dir = dirname(dir)) {
    if (attribute(dir, 'idVendor') !== undefined) return dir;
  }
  return undefined;
}

/** `/dev/serial/by-id` names by the device they point at: bindings-cpp's `pnpId`. */
function byId(dev: string): Map<string, string> {
  const ids = new Map<string, string>();
  const dir = join(dev, 'serial', 'by-id');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return ids;
  }
  for (const name of names) {
    try {
      ids.set(basename(readlinkSync(join(dir, name))), name);
    } catch {}
  }
  return ids;
}

/**
 * Serial ports on Linux, from sysfs: every tty with a hardware device behind
 * it whose name is a serial one, with the USB ids, manufacturer and serial
 * number where the device is on USB.
 *
 * bindings-cpp spawns `udevadm info -e` for this, which fails (ENOENT) in
 * containers and minimal systems that have no udev; sysfs is always there.
 *
 * @example const ports = await linuxList(); // [{ path: '/dev/ttyUSB0', vendorId: '0403', ... }]
 */
export async function linuxList(root = '/'): Promise<PortInfo[]> {
  const sys = join(root, 'sys');
  const dev = join(root, 'dev');
  const classDir = join(sys, 'class', 'tty');
  let names: string[];
  try {
    names = readdirSync(classDir);
  } catch {
    return [];
  }
  const ids = byId(dev);
  const ports: PortInfo[] = [];
  for (const name of names.filter((n) => SERIAL_NAME.test(n)).sort(byNumber)) {
    let device: string;
    try {
      device = realpathSync(join(classDir, name, 'device'));
    } catch {
      continue; // a virtual tty: no hardware behind it
    }
    const usb = usbDevice(device, realpathSync(sys));
    ports.push({
      path: join(dev, name),
      manufacturer: usb && attribute(usb, 'manufacturer'),
      serialNumber: usb && attribute(usb, 'serial'),
      pnpId: ids.get(name),
      locationId: undefined,
      vendorId: usb && attribute(usb, 'idVendor'),
      productId: usb && attribute(usb, 'idProduct'),
    });
  }
  return ports;
}

/** ttyS2 before ttyS10. */
function byNumber(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Serial ports on the BSDs: the call-out devices in `/dev` (`cuaU0`, `cuau0`
 * on FreeBSD, `cua00` on OpenBSD, `dty00` on NetBSD), without the `.init` and
 * `.lock` nodes FreeBSD keeps beside each.
 */
export async function bsdList(root = '/'): Promise<PortInfo[]> {
  const dev = join(root, 'dev');
  let names: string[];
  try {
    names = readdirSync(dev);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^(cua|dty)[A-Za-z]*\d+$/.test(n))
    .sort(byNumber)
    .map((n) => ({ path: join(dev, n), manufacturer: undefined, serialNumber: undefined, pnpId: undefined, locationId: undefined, vendorId: undefined, productId: undefined }));
}
