/**
 * How big each measurement is: `full` (the published numbers, ≥ 5 runs), `quick` (a short look,
 * minutes) and `smoke` (tiny counts: the self-test checks that every scenario works end to end).
 */

/** Every size knob of a harness run. */
export interface Sizes {
  readonly name: 'full' | 'quick' | 'smoke';
  /** Repetitions of each measured pair (sidecar + baseline); medians are over these. */
  readonly runs: number;
  /** Chats the frames rotate over (deliveries are ordered per session, parallel across). */
  readonly sessions: number;
  /** Ceiling runs: events per measurement, frames in flight, and warm-up events. */
  readonly inboundN: number;
  readonly window: number;
  readonly warmN: number;
  /** Added latency: paced rates and how long each is held, ms. */
  readonly latency: readonly { readonly ratePerS: number; readonly durationMs: number }[];
  /** Passthrough: events per measurement; paced latency run; in-process pool samples. */
  readonly passthroughN: number;
  readonly passLatency: { readonly ratePerS: number; readonly durationMs: number };
  readonly poolSamples: number;
  /** Outbound: concurrent callers and how long each level runs, ms. */
  readonly outboundConcurrency: readonly number[];
  readonly outboundMs: number;
  /** Memory: warm-up events, total events, outbound calls held in flight, settle time, ms. */
  readonly memWarmN: number;
  readonly memTotalN: number;
  readonly memInflight: number;
  readonly memSettleMs: number;
  /** Reconnect: restarts, buffered frames per second, frames per run, restart after, ms. */
  readonly reconnectRuns: number;
  readonly reconnectRate: number;
  readonly reconnectN: number;
  readonly restartAfterMs: number;
}

/** The published numbers. */
export const FULL: Sizes = {
  name: 'full',
  runs: 5,
  sessions: 256,
  inboundN: 50_000,
  window: 5_000,
  warmN: 20_000,
  latency: [
    { ratePerS: 100, durationMs: 10_000 },
    { ratePerS: 1_000, durationMs: 5_000 },
    { ratePerS: 5_000, durationMs: 3_000 },
  ],
  passthroughN: 20_000,
  passLatency: { ratePerS: 500, durationMs: 4_000 },
  poolSamples: 5_000,
  outboundConcurrency: [1, 64, 1_024],
  outboundMs: 3_000,
  memWarmN: 100_000,
  memTotalN: 1_000_000,
  memInflight: 10_000,
  memSettleMs: 10_000,
  reconnectRuns: 5,
  reconnectRate: 1_000,
  reconnectN: 4_000,
  restartAfterMs: 1_000,
};

/** A short look (a few minutes). */
export const QUICK: Sizes = {
  ...FULL,
  name: 'quick',
  runs: 3,
  inboundN: 5_000,
  warmN: 2_000,
  latency: [
    { ratePerS: 100, durationMs: 2_000 },
    { ratePerS: 1_000, durationMs: 2_000 },
    { ratePerS: 5_000, durationMs: 1_000 },
  ],
  passthroughN: 2_000,
  passLatency: { ratePerS: 500, durationMs: 1_000 },
  poolSamples: 500,
  outboundMs: 1_000,
  memWarmN: 5_000,
  memTotalN: 50_000,
  memInflight: 2_000,
  memSettleMs: 3_000,
  reconnectRuns: 2,
  reconnectN: 2_000,
};

/** Tiny counts: proves every scenario runs end to end (the bench self-test). */
export const SMOKE: Sizes = {
  ...QUICK,
  name: 'smoke',
  runs: 1,
  sessions: 16,
  inboundN: 200,
  window: 100,
  warmN: 100,
  latency: [
    { ratePerS: 100, durationMs: 300 },
    { ratePerS: 1_000, durationMs: 200 },
    { ratePerS: 5_000, durationMs: 100 },
  ],
  passthroughN: 100,
  passLatency: { ratePerS: 200, durationMs: 250 },
  poolSamples: 50,
  outboundConcurrency: [1, 8, 64],
  outboundMs: 200,
  memWarmN: 200,
  memTotalN: 1_000,
  memInflight: 100,
  memSettleMs: 200,
  reconnectRuns: 1,
  reconnectRate: 500,
  reconnectN: 400,
  restartAfterMs: 300,
};
