// The no-poller floor: what the same bytes cost with no readiness wait at
// all -- synchronous native write then read from JS. W2's floor is the
// cheapest cross-thread wake JS has: Atomics.wait woken by Atomics.notify.
//   node floor.mjs w1 P=64 | w2 samples=N | w3 N=10000 (N is ignored: nothing is registered)
import { latency, parseArgs, rate, run, sampleWakes, timedSync, Waker } from './lib.mjs';

const a = parseArgs();
const contender = 'floor';

run(async () => {
  const { pipe, read, write } = await import('@async-io/linux-epoll');
  const one = Buffer.from('x');
  const buf = Buffer.alloc(1);
  const P = a.workload === 'w1' ? a.P : 1;
  if (a.workload === 'w1' || a.workload === 'w3') {
    const rfd = new Int32Array(P);
    const wfd = new Int32Array(P);
    for (let i = 0; i < P; i++) [rfd[i], wfd[i]] = pipe();
    const round = () => {
      for (let i = 0; i < P; i++) write(wfd[i], one);
      for (let i = 0; i < P; i++) read(rfd[i], buf);
    };
    const params = a.workload === 'w1' ? { P } : { N: a.N };
    rate(contender, a.workload, params, timedSync(round, P, a.ms, a.warm));
  } else if (a.workload === 'w2') {
    const waker = new Waker('atomics');
    const lat = await sampleWakes(waker, a.samples, () => {
      Atomics.wait(waker.flags, 2, 0);
      Atomics.store(waker.flags, 2, 0);
    });
    latency(contender, lat);
  } else {
    throw new Error(`unknown workload ${a.workload}`);
  }
});
