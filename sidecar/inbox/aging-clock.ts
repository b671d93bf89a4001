/**
 * The clock the inbox's remembered frames age on: the wall clock less the forward steps seen.
 * Dedupe keys and the attempt counters of failing frames are stamped and pruned on it, so an NTP
 * correction of a week (a VM restored from a snapshot) neither forgets every key (the frames the
 * connector redelivers after the freeze were delivered twice) nor resets every count (a poison
 * frame got more than `inbox.maxAttempts` attempts).
 *
 * Its times are stored, so it survives a restart: at the first {@link AgingClock.observe} after
 * open, the time since the newest stamp is not counted either (the sidecar being down and the
 * clock stepped meanwhile look alike; keeping rows longer is the safe side, and the dedupe keys'
 * count bound still holds).
 */

/**
 * A difference between the wall clock's and the monotonic clock's progress below this (ms) is
 * noise (timer and NTP slew), not a step.
 */
export const CLOCK_STEP_TOLERANCE_MS = 1_000;

/** The wall clock less the forward steps seen; one per inbox store. */
export class AgingClock {
  /** Wall time not counted as age (forward steps, and the time since the newest stamp at open), ms. */
  private skew = 0;
  /** The clocks at the last {@link observe}. */
  private observed: { readonly wall: number; readonly mono: number } | undefined;

  /** @param newestAtOpen the newest time stamped on this clock in the store, null when none. */
  constructor(private readonly newestAtOpen: number | null) {}

  /** Wall time (ms) ages do not count. */
  get skewMs(): number {
    return this.skew;
  }

  /** The time on this clock at wall time `now`, ms. */
  at(now: number): number {
    return now - this.skew;
  }

  /**
   * Follow the wall clock at `now` (the inbox's upkeep calls this before it prunes). The first call
   * does not count the time since the newest stamp at open. Later calls compare the wall clock's
   * progress with the monotonic clock's (`mono`, ms): a forward step is not counted as age, a
   * backward one gives back what was skipped (never below zero).
   */
  observe(now: number, mono: number = performance.now()): void {
    const last = this.observed;
    this.observed = { wall: now, mono };
    if (last === undefined) {
      this.skew = Math.max(0, now - (this.newestAtOpen ?? now));
      return;
    }
    const step = now - last.wall - (mono - last.mono);
    if (Math.abs(step) >= CLOCK_STEP_TOLERANCE_MS) this.skew = Math.max(0, this.skew + step);
  }
}
