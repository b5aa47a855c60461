// Test helpers: run a recipe as a child process and read what it prints.
// The recipes never import this file.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/** Absolute path of a recipe or fixture, e.g. recipe('inotify.mjs'). */
export const recipe = (name) => fileURLToPath(new URL(`../recipes/${name}`, import.meta.url));
export const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/**
 * Starts `cmd args` and collects its output. `waitFor(re)` resolves with the
 * first match of `re` in stdout, and rejects (with the output so far) if the
 * process exits first; `exited` resolves with { code, signal, stdout, stderr }.
 */
export function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  // Whatever happens to the test (a timeout included), the child does not outlive it.
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set();
  const check = () => {
    for (const w of waiters) {
      const m = out.stdout.match(w.re);
      if (m) waiters.delete(w), w.resolve(m);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (s) => ((out.stdout += s), check()));
  child.stderr.setEncoding('utf8').on('data', (s) => (out.stderr += s));
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters) w.reject(new Error(`exited (${code ?? signal}) before printing ${w.re}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`));
      waiters.clear();
      resolve({ code, signal, ...out });
    });
  });
  return {
    child,
    exited,
    output: out,
    waitFor(re) {
      return new Promise((resolve, reject) => {
        waiters.add({ re, resolve, reject });
        check();
        if (child.exitCode !== null || child.signalCode !== null) exited.then(() => check());
      });
    },
    /** SIGTERM (the recipes stop cleanly on it), then the exit. */
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs to the end: { code, signal, stdout, stderr }. */
export const run = (cmd, args, options) => start(cmd, args, options).exited;

/** Runs a recipe with this Node: start(node, [recipe, ...args]). */
export const startRecipe = (name, args = [], options) => start(process.execPath, [recipe(name), ...args], options);

/**
 * Why this machine cannot run a recipe inside `unshare <flags>` (null when it
 * can): not root, no unshare/nsenter/ip, or the kernel refused the namespace.
 */
export function namespaceRefusal(flags, tools = []) {
  if (process.getuid?.() !== 0) return 'needs root (uid 0) to create namespaces';
  for (const tool of ['unshare', 'nsenter', ...tools]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const probe = spawnSync('unshare', [...flags, 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare ${flags.join(' ')} was refused: ${(probe.stderr || String(probe.error)).trim()}`;
  return null;
}

/** Runs `cmd args` inside the namespaces (nsenter `flags`) of process `pid`; throws on failure. */
export function inNamespaceOf(pid, flags, cmd, args) {
  const r = spawnSync('nsenter', ['-t', String(pid), ...flags, cmd, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`nsenter ${flags.join(' ')} ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}

/** ctx.skip with the reason printed, so the test log says why. */
export function skipBecause(ctx, reason) {
  console.log(`skipped: ${reason}`);
  ctx.skip(reason);
}

/** `s` as a literal inside a RegExp. */
export const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
