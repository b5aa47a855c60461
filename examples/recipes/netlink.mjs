// Netlink: a link monitor that prints interface changes as they happen.
//
//   node netlink.mjs        then, as root elsewhere: ip link set lo down / up
//
// Opens socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) and binds it to the
// RTMGRP_LINK multicast group through koffi; the kernel then sends a datagram
// for every link change, read here with Async.readWith (one datagram per
// read). Each holds netlink messages (struct nlmsghdr); an RTM_NEWLINK or
// RTM_DELLINK message carries a struct ifinfomsg (index, IFF_* flags) and
// route attributes (struct rtattr) such as IFLA_IFNAME and IFLA_OPERSTATE.
// Ctrl-C stops it.
import { endianness } from 'node:os';
import { getSystemErrorName } from 'node:util';
import koffi from 'koffi';
import { Async, read } from '@async-io/reactor';

const libc = koffi.load('libc.so.6');
const sockaddr_nl = koffi.struct('sockaddr_nl', { nl_family: 'uint16', nl_pad: 'uint16', nl_pid: 'uint32', nl_groups: 'uint32' });
const socket = libc.func('int socket(int domain, int type, int protocol)');
const bind = libc.func('int bind(int fd, const sockaddr_nl *addr, uint32_t len)');
const [AF_NETLINK, SOCK_RAW, SOCK_CLOEXEC, NETLINK_ROUTE, RTMGRP_LINK] = [16, 3, 0o2000000, 0, 1];
const [RTM_NEWLINK, RTM_DELLINK, IFLA_IFNAME, IFLA_OPERSTATE] = [16, 17, 3, 16];
const [IFF_UP, IFF_RUNNING, IFF_LOWER_UP] = [0x1, 0x40, 0x10000];
const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

/** A libc result, or a Node-style error from errno. */
function check(result, syscall) {
  if (result >= 0) return result;
  const errno = -koffi.errno();
  throw Object.assign(new Error(`${getSystemErrorName(errno)}: ${syscall} failed`), { code: getSystemErrorName(errno), errno, syscall });
}

const sock = new Async(check(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), 'socket'), { ownsFd: true });
const address = { nl_family: AF_NETLINK, nl_pad: 0, nl_pid: 0, nl_groups: RTMGRP_LINK }; // pid 0: the kernel assigns one
check(bind(sock.fd, address, koffi.sizeof(sockaddr_nl)), 'bind');
const stop = new AbortController();
process.once('SIGINT', () => stop.abort()).once('SIGTERM', () => stop.abort());
console.log('watching link changes');

/** Prints the link messages of one datagram (netlink is in host byte order). */
function decode(buf, n) {
  const view = new DataView(buf.buffer, buf.byteOffset, n);
  const le = endianness() === 'LE';
  for (let off = 0; off + 16 <= n; ) {
    const [len, type] = [view.getUint32(off, le), view.getUint16(off + 4, le)];
    if (len < 16 || off + len > n) break; // truncated: nothing more to trust
    if (type === RTM_NEWLINK || type === RTM_DELLINK) {
      const [index, flags] = [view.getInt32(off + 20, le), view.getUint32(off + 24, le)];
      let [name, oper] = ['?', '?'];
      for (let at = off + 32; at + 4 <= off + len; ) {
        const [alen, atype] = [view.getUint16(at, le), view.getUint16(at + 2, le)];
        if (alen < 4) break;
        if (atype === IFLA_IFNAME) name = buf.toString('utf8', at + 4, at + alen - 1); // NUL-terminated
        if (atype === IFLA_OPERSTATE) oper = OPERSTATES[buf[at + 4]] ?? buf[at + 4];
        at += (alen + 3) & ~3; // attributes are 4-byte aligned
      }
      const state = [flags & IFF_UP && 'UP', flags & IFF_RUNNING && 'RUNNING', flags & IFF_LOWER_UP && 'LOWER_UP'].filter(Boolean);
      console.log(`${type === RTM_NEWLINK ? 'new' : 'deleted'} link ${index} ${name}: <${state.join(',')}> operstate ${oper}`);
    }
    off += (len + 3) & ~3;
  }
}

const buf = Buffer.alloc(64 * 1024);
try {
  for (;;) {
    try {
      // readWith retries the fd helper's read until it no longer would block (null).
      decode(buf, await sock.readWith(() => read(sock.fd, buf), { signal: stop.signal }));
    } catch (error) {
      // The socket's buffer overflowed and the kernel dropped messages: say so, go on.
      if (error.code !== 'ENOBUFS') throw error;
      console.log('missed some changes (ENOBUFS): the receive buffer overflowed');
    }
  }
} catch (error) {
  if (error.name !== 'AbortError') throw error;
} finally {
  sock.close();
}
