/**
 * Monotonic time less the pauses of the process (SIGSTOP, a paused container, a VM
 * live-migrated): for a budget that bounds the process's own work, which a freeze stops too.
 * `performance.now()` runs on through a stop, so such a budget is spent at the resume although
 * nothing was done meanwhile.
 *
 * A pause is told from a gap: a ticker reads the clock every {@link PAUSE_TICK_MS}, and so does
 * every {@link PauseMeter.now} call, so the first reader after a resume sees the gap whether its
 * timer or the ticker's runs first. A gap of {@link PAUSE_DETECT_MS} or more (one constant says what a
 * freeze is) counts, less one tick, as pause. A main thread stalled that long looks the same, so
 * only the {@link MAX_PAUSES} longest gaps are left out.
 */
import type { Clock } from './clock.js';
import { armDeadline, type Deadline, MAX_PAUSES, PAUSE_DETECT_MS } from './deadline.js';

/** How often the meter reads the clock while it runs, ms. */
export const PAUSE_TICK_MS = 100;

/**
 * Pauses a meter leaves out at most, the longest it saw (the others count as time run: see
 * {@link MAX_PAUSES}).
 */
export { MAX_PAUSES };

/** A running meter: stop it when the budget it serves is over. */
export interface PauseMeter {
  /** Monotonic ms less the pauses seen so far. */
  now(): number;
  /** The pauses seen so far, ms. */
  paused(): number;
  /** Stops the ticker; `now()` keeps working. */
  stop(): void;
}

/** Start a meter on `clock` (ms, monotonic; default `performance.now()`). */
export function startPauseMeter(clock: () => number = () => performance.now()): PauseMeter {
  let last = clock();
  let paused = 0;
  // the longest gaps seen, each less a tick: those are left out. Not the first ones: a loaded
  // machine's stalls of a second or two could use them up before the real freeze, which then was
  // charged whole. Trading a shorter one for a longer still moves `now()` on by the shorter gap
  const forgiven: number[] = [];
  const read = () => {
    const at = clock();
    const gap = at - last;
    last = at;
    if (gap < PAUSE_DETECT_MS) return at;
    const pause = Math.max(0, gap - PAUSE_TICK_MS);
    if (forgiven.length < MAX_PAUSES) {
      forgiven.push(pause);
      paused += pause;
      return at;
    }
    const shortest = Math.min(...forgiven);
    if (pause > shortest) {
      forgiven[forgiven.indexOf(shortest)] = pause;
      paused += pause - shortest;
    }
    return at;
  };
  const ticker = setInterval(read, PAUSE_TICK_MS);
  ticker.unref();
  return {
    now: () => read() - paused,
    paused: () => {
      read();
      return paused;
    },
    stop: () => clearInterval(ticker),
  };
}

/**
 * Call `fire` once `ms` of `meter`'s time has passed (a bound on the process's own work), unless
 * cleared first: a timer late by a pause waits for the rest; each turn is an {@link armDeadline},
 * so a verdict late by a pause the meter no longer leaves out first reads what came meanwhile.
 */
export function armWorkDeadline(clock: Clock, meter: PauseMeter, ms: number, fire: () => void): Deadline {
  const due = meter.now() + Math.max(0, ms);
  // the meter already leaves the pause out: a regrant would add the whole delay again
  const arm = (delay: number): Deadline =>
    armDeadline(
      clock,
      delay,
      () => {
        const rest = due - meter.now();
        if (rest > 0) deadline = arm(rest);
        else fire();
      },
      { regrantAfterPause: false },
    );
  let deadline = arm(Math.max(0, ms));
  return { clear: () => deadline.clear() };
}

/**
 * A bound on the process's own work, for a wait a shutdown step makes: on `meter`'s time when one
 * is given ({@link armWorkDeadline}: the drain's, so a pause it leaves out does not end the wait),
 * else an {@link armDeadline} that reads what came before it rules and, a bound on own work,
 * does not restart after a pause.
 */
export function armWorkBound(clock: Clock, ms: number, fire: () => void, meter?: PauseMeter): Deadline {
  return meter
    ? armWorkDeadline(clock, meter, ms, fire)
    : armDeadline(clock, Math.max(0, ms), fire, { regrantAfterPause: false });
}

/** The clock of a bounded wait: `meter`'s time when given, else monotonic time (never the wall clock). */
export function timeOf(meter: PauseMeter | undefined): () => number {
  return meter ? () => meter.now() : () => performance.now();
}
