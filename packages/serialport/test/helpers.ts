import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const fixtures = join(__dirname, 'fixtures');

/** A device made by socat (or its stand-in, see ptyMaker). */
export interface Socat {
  /** The pty paths it made (symlinks to /dev/pts/N). */
  readonly paths: string[];
  readonly child: ChildProcess;
  /** Kills socat (its pty masters close) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** socat where it is installed (CI installs it); elsewhere fixtures/ptys.cjs makes the same devices. */
const socatPath = process.env.PATH?.split(':').find((dir) => existsSync(join(dir, 'socat')));
export const ptyMaker = process.env.ASYNC_IO_TEST_PTYS === 'node' || socatPath === undefined ? 'node fixtures/ptys.cjs' : 'socat';

async function startSocat(addresses: (link: (name: string) => string) => string[], fallback: (link: (name: string) => string) => string[]): Promise<Socat> {
  const dir = mkdtempSync(join(tmpdir(), 'aio-serial-'));
  const links: string[] = [];
  const link = (name: string): string => {
    const path = join(dir, name);
    links.push(path);
    return path;
  };
  const child =
    ptyMaker === 'socat'
      ? spawn('socat', addresses(link), { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(process.execPath, [join(fixtures, 'ptys.cjs'), ...fallback(link)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.on('error', (e: NodeJS.ErrnoException) => {
    stderr += e.message;
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // The links exist once both ptys do: wait for them (or its death).
  let dead = false;
  void exited.then(() => (dead = true));
  while (!links.every((p) => existsSync(p))) {
    if (dead) throw new Error(`${ptyMaker} exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    paths: links,
    child,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A virtual serial pair: what is written to one path is read from the other. */
export function socatPair(): Promise<Socat> {
  return startSocat(
    (link) => [`pty,raw,echo=0,link=${link('A')}`, `pty,raw,echo=0,link=${link('B')}`],
    (link) => ['pair', link('A'), link('B')],
  );
}

/** A pty whose other end runs `cat`: echo firmware. */
export function socatEcho(): Promise<Socat> {
  return startSocat(
    (link) => [`pty,raw,echo=0,link=${link('port')}`, 'exec:cat'],
    (link) => ['echo', link('port')],
  );
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed by us after `limit` ms: it hung. */
  hung: boolean;
}

/** Runs a command to its end, or kills it after `limit` ms (a hang detector, not a timing). */
export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; limit?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: fixtures, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, options.limit ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

const require = createRequire(__filename);

/** The binary inside a platform package of the root devDependency `wrapper` (bun, deno), or null. */
function platformBinary(wrapper: string, name: string, file: string[]): string | null {
  try {
    const from = createRequire(require.resolve(`${wrapper}/package.json`));
    const bin = join(dirname(from.resolve(`${name}/package.json`)), ...file);
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
export const bun = platformBinary('bun', `@oven/bun-${process.platform}-${arch}`, ['bin', 'bun']);
export const deno = platformBinary('deno', process.platform === 'linux' ? `@deno/linux-${process.arch}-glibc` : `@deno/${process.platform}-${process.arch}`, ['deno']);
/** Deno's flags for a script that loads node_modules as installed. */
export const denoRun = ['run', '-A', '--no-remote', '--no-lock', '--node-modules-dir=manual'];
