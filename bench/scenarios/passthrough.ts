/**
 * Item 3 — passthrough: Discord-interaction and Twilio forwards per second end to end through the
 * sidecar (conversion in the worker pool), next to `inbound` frames carrying the same kind of
 * event (no conversion) as the reference; the paced end-to-end latency of each; and the pool's
 * own cost against converting on the main thread (see `pool-vs-main.ts`).
 */
import type { FrameKind } from '../connector/frame-lines.js';
import { log } from './inbound.js';
import { type FlowResult, throughSidecar } from './measure.js';
import { measurePoolVsMain, type PoolVsMain } from './pool-vs-main.js';
import type { Rig } from './rig.js';
import type { Sizes } from './sizes.js';

/** One run: ceiling and paced latency per frame kind. */
export interface PassthroughRun {
  readonly ceiling: Record<FrameKind, FlowResult>;
  readonly paced: Record<FrameKind, FlowResult>;
}

/** Item 3. */
export interface PassthroughResult {
  readonly n: number;
  readonly pacedRatePerS: number;
  readonly runs: PassthroughRun[];
  /** Pool vs main thread, one entry per run per platform. */
  readonly poolVsMain: PoolVsMain[][];
}

const KINDS: readonly FrameKind[] = ['inbound', 'discord', 'twilio'];

/** Measure item 3 with the rig's current (push) sidecar. */
export async function measurePassthrough(rig: Rig, sizes: Sizes): Promise<PassthroughResult> {
  const { ratePerS, durationMs } = sizes.passLatency;
  const pacedN = Math.max(1, Math.round((ratePerS * durationMs) / 1000));
  const runs: PassthroughRun[] = [];
  const poolVsMain: PoolVsMain[][] = [];
  for (let i = 0; i < sizes.runs; i++) {
    const ceiling = {} as Record<FrameKind, FlowResult>;
    const paced = {} as Record<FrameKind, FlowResult>;
    for (const kind of KINDS) {
      const base = { kind, buffered: false, sessions: sizes.sessions };
      ceiling[kind] = await throughSidecar(
        rig,
        { ...base, n: sizes.passthroughN, window: sizes.window, maxMs: Math.max(30_000, sizes.passthroughN) },
        false,
      );
      paced[kind] = await throughSidecar(
        rig,
        { ...base, n: pacedN, ratePerS, maxMs: durationMs * 2 + 20_000 },
        true,
      );
    }
    runs.push({ ceiling, paced });
    const pvm = await measurePoolVsMain(sizes.poolSamples);
    poolVsMain.push(pvm);
    log(
      `passthrough run ${i + 1}/${sizes.runs}: ${KINDS.map((k) => `${k} ${Math.round(ceiling[k].ratePerS)}/s p50 ${paced[k].latency?.p50.toFixed(2)} ms`).join(', ')}; ` +
        pvm
          .map(
            (p) =>
              `${p.platform} pool p50 ${p.poolLatency.p50.toFixed(3)} ms vs main ${p.mainLatency.p50.toFixed(3)} ms`,
          )
          .join(', '),
    );
  }
  return { n: sizes.passthroughN, pacedRatePerS: ratePerS, runs, poolVsMain };
}
