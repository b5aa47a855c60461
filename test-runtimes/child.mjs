// What suite.mjs runs in a fresh process of the same runtime: the checks
// that need their own process (liveness, a driver chosen before first use).
// Prints one result line on stdout; the suite reads it.
import { createRequire } from 'node:module';
import { Async, backendInfo, configure, pipe, read, Reactor, reactorFd, write } from '@async-io/reactor';

const mode = process.argv[2];

function backendPackage() {
  const require = createRequire(import.meta.url);
  return createRequire(require.resolve('@async-io/reactor'))(backendInfo().package);
}

switch (mode) {
  case 'ref': {
    // A pending wait on a ref'd handle keeps the process alive until the
    // parent writes to our stdin.
    const stdin = new Async(0);
    stdin.readable().then(() => console.log('woke'));
    break;
  }
  case 'unref': {
    // The same wait, unref'd: the process must exit by itself.
    const stdin = new Async(0).unref();
    stdin.readable().then(() => console.log('woke (unexpected)'));
    process.on('exit', () => console.log('exited'));
    break;
  }
  case 'idle': {
    // A reactor and a handle with no wait pending keep nothing alive.
    const [r] = pipe();
    new Async(r, { ownsFd: true });
    process.on('exit', () => console.log('exited'));
    break;
  }
  case 'external': {
    // The embedding contract: nothing drives the reactor; a foreign loop
    // (here a Poller of the same backend) watches reactorFd() and calls
    // dispatch() when it is readable.
    configure({ driver: 'external' });
    const fd = reactorFd();
    if (fd === null) {
      console.log('skip reactorFd() is null on the poll backend');
      break;
    }
    const { Poller, Events } = backendPackage();
    const poller = new Poller();
    const events = new Events(4);
    poller.add(fd, 1, { readable: true }, 'level');
    const [r, w] = pipe();
    const reader = new Async(r, { ownsFd: true });
    let resolved = false;
    const waiting = reader.readable().then(() => (resolved = true));
    write(w, new Uint8Array([7]));
    const ready = poller.wait(events, 10_000);
    const dispatched = ready > 0 ? Reactor.get().dispatch() : 0;
    await waiting;
    const n = read(r, new Uint8Array(4));
    poller.close();
    reader.close();
    console.log(
      ready === 1 && events.at(0).readable && dispatched >= 1 && resolved && n === 1
        ? `ok driver ${Reactor.get().driver}, ${dispatched} event(s) dispatched`
        : `fail ready=${ready} dispatched=${dispatched} resolved=${resolved} n=${n}`,
    );
    break;
  }
  case 'nested':
  case 'thread': {
    // An explicit driver: works where the runtime can do it, else a coded
    // error (never a crash).
    try {
      configure({ driver: mode });
      const [r, w] = pipe();
      const reader = new Async(r, { ownsFd: true });
      setTimeout(() => write(w, new Uint8Array([1])), 10);
      await reader.readable();
      const n = read(r, new Uint8Array(4));
      reader.close();
      console.log(n === 1 ? `ok driver ${Reactor.get().driver}` : `fail read ${n}`);
    } catch (error) {
      console.log(`error ${error.code ?? 'uncoded'} ${error.message}`);
    }
    break;
  }
  case 'worker-exit':
  case 'worker-exit-thread': {
    // nodejs/node#65100 (Node >= 24.15 aborted in napi_release_threadsafe_function):
    // a Worker that exits with process.exit() while its reactor's hand-off to the loop
    // thread is live, with a readiness just made so that a batch is on its way. One
    // Worker after another; any abort takes this whole process down, which the suite sees.
    const { Worker } = await import('node:worker_threads');
    const source = `
      const { workerData } = require('node:worker_threads');
      const r = require(workerData.reactor);
      if (workerData.driver) r.configure({ driver: workerData.driver });
      const [handle, peer] = r.Async.pipe();
      handle.readable().then(() => {});
      setTimeout(() => {
        r.write(peer.fd, new Uint8Array([1]));
        process.exit(0);
      }, 5);
    `;
    const reactor = createRequire(import.meta.url).resolve('@async-io/reactor');
    const driver = mode === 'worker-exit-thread' ? 'thread' : undefined;
    const codes = [];
    for (let i = 0; i < Number(process.env.ASYNC_IO_SUITE_WORKERS ?? 20); i++) {
      const worker = new Worker(source, { eval: true, workerData: { reactor, driver } });
      codes.push(await new Promise((resolve) => {
        worker.once('error', (error) => resolve(`error ${error.code ?? error.message}`));
        worker.once('exit', resolve);
      }));
    }
    const bad = codes.filter((c) => c !== 0);
    console.log(bad.length === 0 ? `ok ${codes.length} Workers exited 0` : `fail exits: ${codes.join(', ')}`);
    break;
  }
  default:
    console.log(`fail unknown mode ${mode}`);
}
