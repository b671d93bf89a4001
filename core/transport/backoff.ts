/**
 * Reconnect backoff (relay contract section 6): exponential from `baseMs`, ×2 per consecutive
 * failure, capped at `maxMs`, with full jitter — the delay is uniform in [0, ceiling). Full jitter
 * spreads a fleet of sidecars that lost the same connector so they do not reconnect in lockstep.
 */

/** Backoff bounds, ms. */
export interface BackoffBounds {
  /** Ceiling of the first retry, ms (config `relay.backoffBaseMs`, 1 s). */
  readonly baseMs: number;
  /** Largest ceiling, ms (config `relay.backoffMaxMs`, 30 s). */
  readonly maxMs: number;
}

/** A source of uniform randoms in [0, 1); injectable so tests are exact. */
export type RandomSource = () => number;

/** The ceiling for the `attempt`-th consecutive failure (0-based): min(max, base × 2^attempt). */
export function backoffCeiling(attempt: number, bounds: BackoffBounds): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2^n overflows to Infinity for huge n, which min() turns into the cap.
  return Math.min(bounds.maxMs, bounds.baseMs * 2 ** n);
}

/** Full-jitter delay for the `attempt`-th consecutive failure, ms: floor(random × ceiling). */
export function backoffDelay(
  attempt: number,
  bounds: BackoffBounds,
  random: RandomSource = Math.random,
): number {
  const r = random();
  // Guard a misbehaving source: the delay must stay inside [0, ceiling).
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
  return Math.floor(unit * backoffCeiling(attempt, bounds));
}

/** The failure ladder of one supervisor: counts consecutive failures, resets when stable. */
export class BackoffLadder {
  private failures = 0;

  constructor(
    private readonly bounds: BackoffBounds,
    private readonly random: RandomSource = Math.random,
  ) {}

  /** Consecutive failures so far. */
  get attempts(): number {
    return this.failures;
  }

  /** Record a failure and return the delay before the next dial, ms. */
  fail(): number {
    const delay = backoffDelay(this.failures, this.bounds, this.random);
    this.failures += 1;
    return delay;
  }

  /** A connection stayed up long enough: start the ladder again. */
  reset(): void {
    this.failures = 0;
  }
}
