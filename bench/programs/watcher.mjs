// The callback watcher: watch(fd, READABLE, cb) per pipe, level mode; the
// callback reads the byte with the fd helper. No promise per event, one per
// round (to hand the round back to the timed loop).
//   node watcher.mjs w1 P=64
import { parseArgs, rate, run, skip, timedAsync } from './lib.mjs';

const a = parseArgs();
const backend = process.env.ASYNC_IO_BACKEND ?? 'epoll';
const contender = `watcher-${backend}`;

run(async () => {
  const mod = await import('@async-io/reactor');
  if (typeof mod.watch !== 'function') skip(contender, a.workload, 'watch not available');
  if (a.workload !== 'w1') throw new Error(`unknown workload ${a.workload}`);
  const { watch, WatchFlags, backendInfo, pipe, read, write } = mod;
  const info = backendInfo();
  if (info.name !== backend) throw new Error(`expected the ${backend} backend, the facade chose ${info.name}`);
  const P = a.P;
  const one = Buffer.from('x');
  const buf = Buffer.alloc(1);
  const wfd = new Int32Array(P);
  let left = 0;
  let done = null;
  let spurious = 0;
  const onReady = (fd) => {
    if (read(fd, buf) === null) {
      spurious++;
      return;
    }
    if (--left === 0) done();
  };
  const watchers = [];
  for (let i = 0; i < P; i++) {
    const [r, w] = pipe();
    wfd[i] = w;
    watchers.push(watch(r, WatchFlags.READABLE, onReady, { ownsFd: true }));
  }
  const round = () =>
    new Promise((resolve) => {
      done = resolve;
      left = P;
      for (let i = 0; i < P; i++) write(wfd[i], one);
    });
  rate(contender, 'w1', { P }, await timedAsync(round, P, a.ms, a.warm), { driver: info.driver, spurious_wakes: spurious });
  for (const w of watchers) w.close();
});
