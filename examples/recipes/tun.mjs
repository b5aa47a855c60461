// TUN interface: be an IP host in userspace.
//
//   sudo unshare -n node tun.mjs        (a private network namespace: required)
//
// Creates a TUN device (open /dev/net/tun, ioctl TUNSETIFF through koffi),
// gives it 192.0.2.1/24 and brings it up with ip(8), then reads the IP packets
// the kernel routes into it and answers them as if 192.0.2.2 were a host on
// the other end: an ICMP echo request gets an echo reply, a UDP datagram is
// sent back to its sender. Each packet is one read() and each answer one
// write(). To show it working the program sends itself one UDP datagram; from
// another shell in the namespace, `ping 192.0.2.2` is answered too. Ctrl-C
// stops it. It refuses to run where any interface but lo exists: inside a
// fresh `unshare -n` the only interfaces are lo and this one, so no packet
// can reach any other network.
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';
import { Async, close } from '@async-io/reactor';

// /proc/net/dev lists this namespace's interfaces: a fresh one has only lo.
const others = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter((n) => n && n !== 'lo');
if (others.length > 0) {
  console.error(`this namespace has other interfaces (${others.join(', ')}): run me in a fresh one, sudo unshare -n node tun.mjs`);
  process.exit(2);
}

const libc = koffi.load('libc.so.6');
const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');
const ifreq = koffi.struct('ifreq', { ifr_name: koffi.array('char', 16), ifr_flags: 'short', ifr_pad: koffi.array('uint8', 22) });
const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
const IFF_TUN = 0x0001; // IP packets, no Ethernet header
const IFF_NO_PI = 0x1000; // no 4-byte packet-information prefix

/** A libc result, or a Node-style error from errno. */
function check(result, syscall) {
  if (result >= 0) return result;
  const errno = -koffi.errno();
  throw Object.assign(new Error(`${getSystemErrorName(errno)}: ${syscall} failed`), { code: getSystemErrorName(errno), errno, syscall });
}

const fd = openSync('/dev/net/tun', 'r+'); // Node opens with O_CLOEXEC
const req = { ifr_name: 'tun%d', ifr_flags: IFF_TUN | IFF_NO_PI }; // the kernel picks the number
try {
  check(ioctl(fd, TUNSETIFF, koffi.inout(koffi.pointer(ifreq)), req), 'ioctl');
} catch (error) {
  close(fd);
  throw error;
}
const tun = new Async(fd, { ownsFd: true });
execFileSync('ip', ['addr', 'add', '192.0.2.1/24', 'dev', req.ifr_name]);
execFileSync('ip', ['link', 'set', req.ifr_name, 'up']);
const stop = new AbortController();
process.once('SIGINT', () => stop.abort()).once('SIGTERM', () => stop.abort());
console.log(`${req.ifr_name} is up as 192.0.2.1/24; 192.0.2.2 answers ping and UDP`);

/** The Internet checksum (RFC 1071) of `b`. */
function checksum(b) {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const client = dgram.createSocket('udp4').once('message', (msg, from) => {
  console.log(`udp reply from ${from.address}:${from.port}: "${msg}"`);
  client.close();
});
client.send('hello through the tun device', 7, '192.0.2.2');

const packet = Buffer.alloc(65536);
try {
  for (;;) {
    const p = packet.subarray(0, await tun.read(packet, { signal: stop.signal })); // one packet per read
    if (p[0] >> 4 !== 4) {
      console.log(`ignored an IPv${p[0] >> 4} packet (${p.length} bytes)`);
      continue;
    }
    const ihl = (p[0] & 15) * 4;
    const [proto, src, dst] = [p[9], p.subarray(12, 16).join('.'), p.subarray(16, 20).join('.')];
    // Swapping source and destination keeps the IP checksum (and the UDP
    // pseudo-header sum) valid: one's-complement addition is commutative.
    const source = Buffer.from(p.subarray(12, 16));
    p.copy(p, 12, 16, 20);
    source.copy(p, 16);
    if (proto === 1 && p[ihl] === 8) {
      p[ihl] = 0; // echo request -> echo reply; same id, sequence and data
      p.writeUInt16BE(0, ihl + 2);
      p.writeUInt16BE(checksum(p.subarray(ihl)), ihl + 2);
      console.log(`icmp echo request ${src} -> ${dst} seq ${p.readUInt16BE(ihl + 6)}: answered`);
    } else if (proto === 17) {
      const port = p.readUInt16BE(ihl);
      p.writeUInt16BE(p.readUInt16BE(ihl + 2), ihl);
      p.writeUInt16BE(port, ihl + 2);
      console.log(`udp ${src}:${port} -> ${dst}:${p.readUInt16BE(ihl)}, ${p.length - ihl - 8} bytes: sent back`);
    } else {
      console.log(`ignored protocol ${proto} ${src} -> ${dst}`);
      continue;
    }
    await tun.write(p); // one write = one packet handed to the kernel
  }
} catch (error) {
  if (error.name !== 'AbortError') throw error;
} finally {
  tun.close(); // closing the fd removes the interface
}
