/**
 * Time as a dependency: production uses the system clock, tests inject a fake through DI.
 */

/** A source of time and owned timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Like `setTimeout`, but the returned handle is always `unref()`ed. */
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
  /** Like `clearTimeout`. */
  clearTimeout(handle: NodeJS.Timeout | undefined): void;
}

/** The system clock. Timers are unref'ed so they never hold the process open. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    if (handle) clearTimeout(handle);
  },
};

/**
 * The system clock with timers kept ref'd: for a wait the process itself awaits (the shutdown's
 * steps, a CLI command's verdict, the start-up check), which must keep it alive until it ends.
 */
export const heldClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    if (handle) clearTimeout(handle);
  },
};
