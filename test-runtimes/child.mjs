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
  default:
    console.log(`fail unknown mode ${mode}`);
}
