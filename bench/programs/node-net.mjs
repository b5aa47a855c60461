// Node core: net.Socket over pipe fds (what `new net.Socket({ fd })` does
// with a FIFO too), the closest core Node gets to "wait on this fd".
// Bytes are written with the native write helper, as for every contender.
//   node node-net.mjs w1 P=64 | w2 samples=N | w3 N=10000
import net from 'node:net';
import { latency, parseArgs, rate, run, sampleWakes, timedAsync, Waker } from './lib.mjs';

const a = parseArgs();
const contender = 'node-net';

run(async () => {
  const { pipe, socketpair, write } = await import('@async-io/linux-epoll');
  const one = Buffer.from('x');
  let got = 0;
  let want = 0;
  let done = null;
  const onData = (chunk) => {
    got += chunk.length;
    if (got === want) done();
  };
  const sockets = [];
  const watch = (fd) => {
    const s = new net.Socket({ fd, readable: true, writable: false });
    s.on('data', onData);
    sockets.push(s);
    return s;
  };
  const round = (wfd) => {
    got = 0;
    want = wfd.length;
    const p = new Promise((resolve) => (done = resolve));
    for (let i = 0; i < wfd.length; i++) write(wfd[i], one);
    return p;
  };
  const pipes = (n) => {
    const wfd = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const [r, w] = pipe();
      watch(r);
      wfd[i] = w;
    }
    return wfd;
  };

  if (a.workload === 'w1') {
    const wfd = pipes(a.P);
    rate(contender, 'w1', { P: a.P }, await timedAsync(() => round(wfd), a.P, a.ms, a.warm));
  } else if (a.workload === 'w3') {
    const wfd = pipes(1);
    // Idle: both ends of N/2 socket pairs watched for reading (as in every contender).
    for (let i = 0; i < a.N / 2; i++) {
      const [r, w] = socketpair();
      watch(r);
      watch(w);
    }
    rate(contender, 'w3', { N: a.N }, await timedAsync(() => round(wfd), 1, a.ms, a.warm));
  } else if (a.workload === 'w2') {
    const [r, w] = pipe();
    watch(r);
    want = 1;
    const waker = new Waker('write', { pkg: '@async-io/linux-epoll', fd: w });
    const lat = await sampleWakes(waker, a.samples, () => {
      got = 0;
      return new Promise((resolve) => (done = resolve));
    });
    latency(contender, lat);
  } else {
    throw new Error(`unknown workload ${a.workload}`);
  }
  for (const s of sockets) s.destroy();
});
