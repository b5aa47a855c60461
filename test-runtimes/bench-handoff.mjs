#!/usr/bin/env node
// How much a driver's hand-off costs: a readable() ping-pong over one pipe
// (write a byte, await readable(), read it with the handle: the short read
// marks the pipe drained, so the next readable() really waits), so that every
// round crosses the driver once. Each contender runs in its own process, rounds interleaved:
//   node test-runtimes/bench-handoff.mjs [rounds=200000] [repeats=5]
// Contenders under Node: nested (uv_poll_t), thread + uv_async_t, thread +
// napi_threadsafe_function (ASYNC_IO_NO_LIBUV=1, what Bun and Deno get).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const { Async, configure, pipe, write, backendInfo } = await import('@async-io/reactor');
  const rounds = Number(process.argv[4]);
  configure({ driver: process.argv[3] });
  const [r, w] = pipe();
  const reader = new Async(r, { ownsFd: true });
  const one = new Uint8Array(1);
  const buf = new Uint8Array(64);
  const round = async () => {
    write(w, one);
    await reader.readable();
    if ((await reader.read(buf)) !== 1) throw new Error('lost a byte');
  };
  for (let i = 0; i < 2000; i++) await round(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await round();
  const ns = Number(process.hrtime.bigint() - t0) / rounds;
  reader.close();
  console.log(JSON.stringify({ driver: backendInfo().driver, ns }));
} else {
  const rounds = process.argv[2] ?? '200000';
  const repeats = Number(process.argv[3] ?? 5);
  const contenders = [
    { name: 'nested (uv_poll_t)', driver: 'nested', env: {} },
    { name: 'thread + uv_async_t', driver: 'thread', env: {} },
    { name: 'thread + threadsafe function', driver: 'thread', env: { ASYNC_IO_NO_LIBUV: '1' } },
  ];
  const results = contenders.map(() => []);
  for (let rep = 0; rep < repeats; rep++) {
    contenders.forEach((c, i) => {
      const out = spawnSync(process.execPath, [self, '--child', c.driver, rounds], {
        env: { ...process.env, ...c.env },
        encoding: 'utf8',
      });
      if (out.status !== 0) throw new Error(`${c.name}: ${out.stderr}`);
      results[i].push(JSON.parse(out.stdout).ns);
    });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results[0]);
  console.log(`readable() ping-pong over a pipe, ${rounds} rounds, median of ${repeats} runs (Node ${process.version})`);
  contenders.forEach((c, i) => {
    const m = median(results[i]);
    const all = results[i].map((x) => x.toFixed(0)).join(' ');
    console.log(`  ${c.name.padEnd(30)} ${m.toFixed(0).padStart(6)} ns/round  ${(m / base).toFixed(2)}x nested  [${all}]`);
  });
}
