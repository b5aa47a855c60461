// The npm `epoll` package (the only Node peer): a watcher thread hands the
// main thread one event at a time. I/O uses the same native read/write
// helpers as our contenders, so only the readiness path differs.
//   node npm-epoll.mjs w1 P=64 | w2 samples=N | w3 N=10000
import { createRequire } from 'node:module';
import { latency, parseArgs, rate, run, sampleWakes, timedAsync, Waker } from './lib.mjs';

const require = createRequire(import.meta.url);
const a = parseArgs();
const contender = 'npm-epoll';

run(async () => {
  const { Epoll } = require('epoll');
  const { pipe, read, socketpair, write } = await import('@async-io/linux-epoll');
  const one = Buffer.from('x');
  const buf = Buffer.alloc(1);
  let got = 0;
  let want = 0;
  let done = null;
  const poller = new Epoll((err, fd) => {
    if (err) throw err;
    read(fd, buf);
    if (++got === want) done();
  });
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
      poller.add(r, Epoll.EPOLLIN);
      wfd[i] = w;
    }
    return wfd;
  };

  if (a.workload === 'w1') {
    const wfd = pipes(a.P);
    rate(contender, 'w1', { P: a.P }, await timedAsync(() => round(wfd), a.P, a.ms, a.warm));
  } else if (a.workload === 'w3') {
    const wfd = pipes(1);
    for (let i = 0; i < a.N / 2; i++) {
      const [r, w] = socketpair();
      poller.add(r, Epoll.EPOLLIN).add(w, Epoll.EPOLLIN);
    }
    rate(contender, 'w3', { N: a.N }, await timedAsync(() => round(wfd), 1, a.ms, a.warm));
  } else if (a.workload === 'w2') {
    const [r, w] = pipe();
    poller.add(r, Epoll.EPOLLIN);
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
  poller.close();
});
