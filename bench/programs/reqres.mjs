// W1 as a request/response user writes it: rounds of one byte into each of P
// pipes, as in W1, but the handler reads its byte in JS with fs.readSync and
// the handler that completes a round writes the next round's P bytes
// (fs.writeSync) from inside itself. No promise per round, no timed loop
// between rounds.
//   node reqres.mjs w1 P=64 kind=watch      watch(fd, READABLE, cb), level mode
//   node reqres.mjs w1 P=64 kind=readable   per pipe: for (;;) { await h.readable(); readSync; writeSync }
//   node reqres.mjs w1 P=64 kind=net        net.Socket({ fd }) 'data' handler; Node reads, we write
// Events are counted between two timer ticks (warm-up, then `ms`): the
// handlers never return to a timed loop.
import fs from 'node:fs';
import net from 'node:net';
import { parseArgs, rate, run, skip } from './lib.mjs';

const a = parseArgs();
const kind = a.kind ?? 'watch';
const backend = process.env.ASYNC_IO_BACKEND ?? 'epoll';
const contender = kind === 'net' ? 'node-net-reqres' : kind === 'watch' ? `watcher-${backend}-reqres` : `reactor-${backend}-readable-reqres`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

run(async () => {
  if (a.workload !== 'w1') throw new Error(`unknown workload ${a.workload}`);
  const mod = await import('@async-io/reactor');
  if (kind === 'watch' && typeof mod.watch !== 'function') skip(contender, a.workload, 'watch not available');
  const { Async, watch, WatchFlags, backendInfo, pipe } = mod;
  const info = backendInfo();
  if (kind !== 'net' && info.name !== backend) throw new Error(`expected the ${backend} backend, the facade chose ${info.name}`);
  const P = a.P;
  const one = Buffer.from('x');
  const buf = Buffer.alloc(1);
  let events = 0;
  let spurious = 0;
  let stop = false;
  const closers = [];
  /** Reads the request; false if there was none (a spurious wake). */
  const readOne = (fd) => {
    try {
      return fs.readSync(fd, buf, 0, 1, null) === 1;
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      spurious++;
      return false;
    }
  };
  const wfds = [];
  let left = P;
  const startRound = () => {
    left = P;
    for (let i = 0; i < P; i++) fs.writeSync(wfds[i], one);
  };
  /** One response read; the last one of a round starts the next. */
  const respond = () => {
    events++;
    if (--left === 0 && !stop) startRound();
  };
  for (let i = 0; i < P; i++) {
    const [r, w] = pipe();
    wfds.push(w);
    if (kind === 'watch') {
      const watcher = watch(r, WatchFlags.READABLE, (fd) => {
        if (readOne(fd)) respond();
      }, { ownsFd: true });
      closers.push(() => watcher.close());
    } else if (kind === 'readable') {
      const h = new Async(r, { ownsFd: true });
      closers.push(() => h.close());
      (async () => {
        while (!stop) {
          await h.readable();
          if (readOne(r)) respond();
        }
      })().catch((error) => {
        if (!stop) throw error;
      });
    } else if (kind === 'net') {
      const s = new net.Socket({ fd: r, readable: true, writable: false });
      s.on('data', (chunk) => {
        for (let k = 0; k < chunk.length; k++) respond();
      });
      closers.push(() => s.destroy());
    } else {
      throw new Error(`unknown kind ${kind}`);
    }
  }
  startRound();
  await sleep(a.warm);
  const e0 = events;
  const t0 = process.hrtime.bigint();
  await sleep(a.ms);
  const e1 = events;
  const t1 = process.hrtime.bigint();
  stop = true;
  rate(contender, 'w1', { P }, { events: e1 - e0, ns: Number(t1 - t0) }, { driver: kind === 'net' ? 'libuv' : info.driver, spurious_wakes: spurious });
  for (const c of closers) c();
  for (const w of wfds) fs.closeSync(w);
});
