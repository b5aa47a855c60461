// Our Poller: synchronous wait + the package's native read/write helpers.
//   node poller.mjs w1 P=64 backend=epoll|poll | w2 samples=N | w3 N=10000
import { loadBackend, latency, parseArgs, rate, run, sampleWakes, skip, timedSync, Waker } from './lib.mjs';

const a = parseArgs();
const backend = a.backend ?? 'epoll';
const contender = `poller-${backend}`;

run(async () => {
  const { mod, pkg, error } = await loadBackend(backend);
  if (!mod) skip(contender, a.workload, `${backend} backend not built (${pkg}: ${String(error?.message ?? error).split('\n')[0]})`);
  const { Poller, Events, pipe, socketpair, read, write } = mod;
  const poller = new Poller();
  const one = Buffer.from('x');
  const buf = Buffer.alloc(1);

  if (a.workload === 'w1' || a.workload === 'w3') {
    const P = a.workload === 'w1' ? a.P : 1;
    const rfd = new Int32Array(P);
    const wfd = new Int32Array(P);
    for (let i = 0; i < P; i++) {
      [rfd[i], wfd[i]] = pipe();
      poller.add(rfd[i], i, { readable: true }, 'level');
    }
    if (a.workload === 'w3') {
      for (let i = 0; i < a.N / 2; i++) {
        const [r, w] = socketpair();
        poller.add(r, P + 1 + 2 * i, { readable: true }, 'level');
        poller.add(w, P + 2 + 2 * i, { readable: true }, 'level');
      }
    }
    const events = new Events(Math.max(P, 64));
    const round = () => {
      for (let i = 0; i < P; i++) write(wfd[i], one);
      for (let got = 0; got < P; ) {
        const n = poller.wait(events, null);
        for (let j = 0; j < n; j++) read(rfd[events.keyAt(j)], buf);
        got += n;
      }
    };
    const params = a.workload === 'w1' ? { P } : { N: a.N };
    rate(contender, a.workload, params, timedSync(round, P, a.ms, a.warm));
  } else if (a.workload === 'w2') {
    const waker = new Waker('notify', { pkg, shared: poller.share() });
    const events = new Events(8);
    const lat = await sampleWakes(waker, a.samples, () => {
      poller.wait(events, null);
    });
    latency(contender, lat);
  } else {
    throw new Error(`unknown workload ${a.workload}`);
  }
  poller.close();
});
