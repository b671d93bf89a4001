/**
 * What every part of one chaos soak shares: the one seeded random source, the clock it reports
 * in, and the record it builds (violations, notes, the fault schedule as it ran, counts).
 *
 * There is a single generator on purpose: a seed names a fault schedule only while every part
 * draws from the same sequence in the same order, so the parts take this object, never a
 * generator of their own.
 */

/** Options of a soak run (`runSoak`). */
export interface SoakOptions {
  readonly seed: number;
  /** How long faults are mixed in, ms (the drain after it is extra). */
  readonly durationMs: number;
  readonly mode: 'push' | 'pull';
  /** Mean gap between events, ms; default 25. */
  readonly eventGapMs?: number;
  /** Mean gap between faults, ms; default 1 500. */
  readonly faultGapMs?: number;
  /**
   * Run every kind of fault at least once (in a seeded order) before going random, running past
   * the duration if needed: the short CI version covers them all.
   */
  readonly cover?: boolean;
  /** Tunables deep-merged over the soak's own (e.g. `{"inbox":{"maxIngestPending":8}}`). */
  readonly sidecarConfig?: Record<string, unknown>;
  /** Scales how long a fault lasts (connector or agent down, flaky spell); default 1. */
  readonly faultScale?: number;
  /** Longest wait for the drain after the faults stop, ms; default 60 000. */
  readonly drainMs?: number;
  /** Sidecar LOG_LEVEL; default debug (the secret check reads every line). */
  readonly logLevel?: string;
  /** Write each sidecar life's output here (`life-<n>.log`), for the chase after a violation. */
  readonly logsDir?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** mulberry32: small, fast, seeded. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shared state of one soak run. */
export class SoakRun {
  /** The seeded source every random choice of the run comes from. */
  readonly rand: () => number;
  /** When the run started (ms since the epoch). */
  readonly t0: number;
  /** Invariant violations, one line each. */
  readonly violations: string[] = [];
  /** What is worth a look but no violation. */
  readonly notes: string[] = [];
  /** The fault schedule as it ran (`<ms since start> <fault>`). */
  readonly faults: string[] = [];
  /** Counts of what happened, by name. */
  readonly stats: Record<string, number> = {};
  /** Faults are mixed in (connector answer delays, agent ack chaos); off for the drain. */
  chaos = true;

  constructor(
    seed: number,
    /** A progress line. */
    readonly say: (line: string) => void,
  ) {
    this.rand = seeded(seed);
    this.t0 = Date.now();
  }

  /** One of `xs`, drawn from the seeded source. */
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)] as T;
  }

  /** ms since the run started. */
  since(): number {
    return Date.now() - this.t0;
  }

  /** Add `n` to the count `k`. */
  bump(k: string, n = 1): void {
    this.stats[k] = (this.stats[k] ?? 0) + n;
  }
}
