// Our facade: Reactor + Async, the promise path (readWith). The backend is
// whatever the facade selects; the runner forces it with ASYNC_IO_BACKEND.
//   node reactor.mjs w1 P=64 | w2 samples=N | w3 N=10000 | rss events=10000000 P=64
//   | w5 (always ready: a tight loop of awaited reads on a pipe that always has data)
//   api=read | api=readable (await handle.readable(), then read(fd, buf))
//   driver=nested|thread (configure() before first use; default: the facade's choice)
// ASYNC_IO_COOP_BUDGET=0 in the environment turns the cooperative budget off
// (packages/reactor/lib/coop.ts): the runner's *-nobudget contenders.
import { latency, loadBackend, parseArgs, rate, run, sampleWakes, skip, timedAsync, Waker } from './lib.mjs';

const a = parseArgs();
const backend = process.env.ASYNC_IO_BACKEND ?? 'epoll';
// api=read: handle.read(buf) (skips the read a drained stream fd would fail);
// default: readWith(() => read(fd, buf)).
const useRead = a.api === 'read';
const useReadable = a.api === 'readable';
const budgetOff = process.env.ASYNC_IO_COOP_BUDGET === '0';
const contender = `reactor-${backend}${a.driver ? `-${a.driver}` : ''}${a.api ? `-${a.api}` : ''}${budgetOff ? '-nobudget' : ''}`;

run(async () => {
  if (backend === 'poll') {
    const { mod, error } = await loadBackend('poll');
    if (!mod) skip(contender, a.workload, `poll backend not built (${String(error?.message ?? error).split('\n')[0]})`);
  }
  const { Async, backendInfo, configure, pipe, read, socketpair, write } = await import('@async-io/reactor');
  if (a.driver) configure({ driver: a.driver });
  const info = backendInfo();
  if (a.driver && info.driver !== a.driver) throw new Error(`asked for the ${a.driver} driver, got ${info.driver}`);
  if (info.name !== backend) throw new Error(`expected the ${backend} backend, the facade chose ${info.name}`);
  const one = Buffer.from('x');
  const buf = Buffer.alloc(1);

  // P pipes; each round arms every reader (readWith tries read(), gets
  // would-block and waits), then writes one byte into every pipe and awaits
  // all reads: every byte goes through a readiness event.
  function pingpong(P) {
    const rfd = new Int32Array(P);
    const wfd = new Int32Array(P);
    const handles = [];
    const ops = [];
    for (let i = 0; i < P; i++) {
      [rfd[i], wfd[i]] = pipe();
      handles.push(new Async(rfd[i], { ownsFd: true }));
      const fd = rfd[i];
      ops.push(() => read(fd, buf));
    }
    const reads = new Array(P);
    const big = Buffer.alloc(64); // larger than a message: a short read = drained
    // The readable() loop a user with their own read call writes: wait, then
    // read with the fd helper; a wait that resolves with nothing to read
    // (null = would block) would wait again, and is counted.
    let spurious = 0;
    const waitThenRead = async (i) => {
      for (;;) {
        await handles[i].readable();
        if (read(rfd[i], buf) !== null) return;
        spurious++;
      }
    };
    pingpong.spurious = () => spurious;
    return () => {
      if (useReadable) for (let i = 0; i < P; i++) reads[i] = waitThenRead(i);
      else if (useRead) for (let i = 0; i < P; i++) reads[i] = handles[i].read(big);
      else for (let i = 0; i < P; i++) reads[i] = handles[i].readWith(ops[i]);
      for (let i = 0; i < P; i++) write(wfd[i], one);
      return Promise.all(reads);
    };
  }

  if (a.workload === 'w1') {
    const round = pingpong(a.P);
    rate(contender, 'w1', { P: a.P }, await timedAsync(round, a.P, a.ms, a.warm), { driver: info.driver, ...(useReadable ? { spurious_wakes: pingpong.spurious() } : {}) });
  } else if (a.workload === 'w3') {
    const idle = [];
    for (let i = 0; i < a.N / 2; i++) {
      const [r, w] = socketpair();
      idle.push(new Async(r, { ownsFd: true }), new Async(w, { ownsFd: true }));
    }
    rate(contender, 'w3', { N: a.N }, await timedAsync(pingpong(1), 1, a.ms, a.warm), { driver: info.driver });
  } else if (a.workload === 'w2') {
    const [r, w] = pipe();
    const reader = new Async(r, { ownsFd: true });
    const { pkg } = await loadBackend(backend);
    const waker = new Waker('write', { pkg, fd: w });
    const op = () => read(r, buf);
    latency(contender, await sampleWakes(waker, a.samples, () => reader.readWith(op)), { driver: info.driver });
  } else if (a.workload === 'w5') {
    // Always ready: a pipe that holds 4 KiB at every await. Each step reads 64
    // bytes (readWith(op) / handle.read / readable() then read) and writes
    // them back, so every await can complete at once: the loop the cooperative
    // budget is there for. Cost per step (wall, and `cpu_ns_per_step`); `loop_turns` counts the event loop's
    // turns (a setImmediate chain) during the run: about one per 128 steps
    // with the budget, none without (the loop never yields).
    const [r, w] = pipe();
    const h = new Async(r, { ownsFd: true });
    const CHUNK = 64;
    const buf = Buffer.alloc(CHUNK);
    const fill = Buffer.alloc(4096, 120);
    if (write(w, fill) !== fill.length) throw new Error('could not fill the pipe');
    const op = () => read(r, buf);
    const once = useReadable
      ? async () => {
          for (;;) {
            await h.readable();
            if (read(r, buf) !== null) return;
          }
        }
      : useRead
        ? () => h.read(buf)
        : () => h.readWith(op);
    const STEPS = 16;
    let steps = 0;
    const round = async () => {
      steps += STEPS;
      for (let i = 0; i < STEPS; i++) {
        const n = await once();
        if (n !== undefined && n !== CHUNK) throw new Error(`short read ${n}`);
        if (write(w, buf) !== CHUNK) throw new Error('short write');
      }
    };
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const cpu0 = process.cpuUsage();
    const t = await timedAsync(round, STEPS, a.ms, a.warm);
    const cpu = process.cpuUsage(cpu0);
    counting = false;
    const loopTurns = turns; // over warm-up and measurement, as `steps`
    // The knob must have done what the contender's name says.
    if (budgetOff && loopTurns > 1) throw new Error(`budget off, yet the loop turned ${loopTurns} times`);
    if (!budgetOff && loopTurns === 0) throw new Error('budget on, yet the loop never turned');
    rate(contender, 'w5', { chunk: CHUNK }, t, { driver: info.driver, loop_turns: loopTurns, steps_per_turn: loopTurns ? Math.round(steps / loopTurns) : null,
      // CPU time per step over warm-up and measurement: less moved than wall time by other jobs' preemption.
      cpu_ns_per_step: ((cpu.user + cpu.system) * 1000) / steps });
  } else if (a.workload === 'rss') {
    // RSS over many reactor events: sampled after a GC every tenth of the run;
    // growth is measured from the end of warm-up (30%) to the end.
    const P = a.P ?? 64;
    const round = pingpong(P);
    const rounds = Math.ceil(a.events / P);
    const gc = globalThis.gc ?? (() => {});
    const samples = [];
    const step = Math.ceil(rounds / 10);
    const t0 = process.hrtime.bigint();
    let base = 0;
    for (let i = 0; i < rounds; i++) {
      await round();
      if (i % step === step - 1 || i === rounds - 1) {
        gc();
        const m = process.memoryUsage();
        const rss = m.rss;
        samples.push({ events: (i + 1) * P, rss_kb: Math.round(rss / 1024), heap_used_kb: Math.round(m.heapUsed / 1024), heap_total_kb: Math.round(m.heapTotal / 1024) });
        // Warm-up is the first 30% of events: V8 sizes its heap (heapTotal)
        // to the allocation rate in that time, a one-off step, not growth.
        if (samples.length === 3) base = rss;
      }
    }
    const ns = Number(process.hrtime.bigint() - t0);
    const end = samples.at(-1).rss_kb * 1024;
    rate(contender, 'rss', { events: a.events }, { events: rounds * P, ns }, {
      rss_start_kb: Math.round(base / 1024),
      rss_end_kb: Math.round(end / 1024),
      rss_growth: (end - base) / base,
      rss_growth_from_first_tenth: (end - samples[0].rss_kb * 1024) / (samples[0].rss_kb * 1024),
      heap_used_growth: (samples.at(-1).heap_used_kb - samples[0].heap_used_kb) / samples[0].heap_used_kb,
      rss_samples: samples,
      gc_exposed: globalThis.gc !== undefined,
    });
  } else {
    throw new Error(`unknown workload ${a.workload}`);
  }
});
