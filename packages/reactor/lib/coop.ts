/**
 * A cooperative budget, as tokio's: an awaited wait or I/O helper that can
 * complete at once (cached readiness, an op that did not would-block) does so
 * at most {@link BUDGET} times per turn of the event loop. After that it
 * completes from a `setImmediate`, so that a loop of `await handle.readWith()`
 * on an fd that is always ready still lets timers, I/O callbacks, child
 * exits and signals run (libuv drops signals that do not fit its pipe while
 * nobody reads it). The budget is per thread and comes back when the loop
 * turns.
 *
 * For the benchmark and tests only, not an API: `ASYNC_IO_COOP_BUDGET=N`
 * in the environment when this module loads sets the budget to N (a whole
 * number; 0 turns it off: every completion at once, no `setImmediate`).
 * Read once; anything else, or no environment, leaves {@link BUDGET}.
 */

/**
 * Completions at once per loop turn. tokio's budget is 128 per task poll.
 * @internal
 */
export const BUDGET = 128;

const immediate: (fn: () => void) => unknown =
  typeof setImmediate === 'function' ? setImmediate : (fn) => setTimeout(fn, 0);

/** `ASYNC_IO_COOP_BUDGET` (bench/test knob, see above), else {@link BUDGET}. */
function configured(): number {
  let raw: string | undefined;
  try {
    raw = typeof process === 'object' ? process.env?.ASYNC_IO_COOP_BUDGET : undefined;
  } catch {
    return BUDGET; // Deno without --allow-env
  }
  return raw !== undefined && /^\d{1,9}$/.test(raw) ? Number(raw) : BUDGET;
}

const budget = configured();
let left = budget;
let refilling = false;
/** Callers that yielded this turn: one `setImmediate` runs them all. */
let deferred: (() => void)[] = [];
/** While they run: a caller yields once, and then completes without spending again. */
let draining = false;

function drain(): void {
  const run = deferred;
  deferred = [];
  draining = true;
  try {
    for (const fn of run) {
      try {
        fn();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  } finally {
    draining = false;
  }
}

function refill(): void {
  left = budget;
  refilling = false;
}

/**
 * Spends one unit: `true` if the caller may complete at once, `false` if it
 * must yield first (then {@link yieldThen}).
 * @internal
 */
export function spend(): boolean {
  if (budget === 0 || draining) return true;
  if (!refilling) {
    // Runs once the loop has turned (after timers and I/O): the budget is back.
    refilling = true;
    immediate(refill);
  }
  if (left === 0) return false;
  left--;
  return true;
}

/**
 * Runs `fn` after the event loop has had its turn; `fn` then completes at
 * once without spending (it yielded once already: a round of 1,024 waits
 * that find their fds ready costs one `setImmediate`, not one per wait per
 * turn).
 * @internal
 */
export function yieldThen(fn: () => void): void {
  if (deferred.length === 0) immediate(drain);
  deferred.push(fn);
}
