/**
 * Item 2 — added latency: connector send → agent receives, p50/p99/p999, with frames paced at
 * fixed rates (each frame stamped with its real send time, so a late sender does not count as
 * sidecar latency). Each run pairs the sidecar with the bare reader at the same rate.
 */
import { log } from './inbound.js';
import { type FlowResult, throughBare, throughSidecar } from './measure.js';
import type { Mode, Rig } from './rig.js';
import type { Sizes } from './sizes.js';

/** One rate's runs. */
export interface LatencyRate {
  readonly ratePerS: number;
  readonly n: number;
  readonly runs: { readonly bare: FlowResult; readonly sidecar: FlowResult }[];
}

/** Item 2 for one mode. */
export interface LatencyResult {
  readonly mode: Mode;
  readonly rates: LatencyRate[];
}

/** Measure item 2 with the rig's current sidecar. */
export async function measureLatency(rig: Rig, mode: Mode, sizes: Sizes): Promise<LatencyResult> {
  const rates: LatencyRate[] = sizes.latency.map((l) => ({
    ratePerS: l.ratePerS,
    n: Math.max(1, Math.round((l.ratePerS * l.durationMs) / 1000)),
    runs: [],
  }));
  for (let i = 0; i < sizes.runs; i++) {
    for (const rate of rates) {
      const flow = {
        kind: 'inbound' as const,
        n: rate.n,
        buffered: false,
        sessions: sizes.sessions,
        ratePerS: rate.ratePerS,
        // sending takes n / rate seconds; allow as much again plus 20 s for the tail
        maxMs: Math.round((rate.n / rate.ratePerS) * 2000) + 20_000,
      };
      const bare = await throughBare(rig, flow, true);
      const sidecar = await throughSidecar(rig, flow, true);
      rate.runs.push({ bare, sidecar });
      log(
        `latency ${mode} ${rate.ratePerS}/s run ${i + 1}/${sizes.runs}: p50 ${ms(sidecar.latency?.p50)} p99 ${ms(sidecar.latency?.p99)} p999 ${ms(sidecar.latency?.p999)} (bare p99 ${ms(bare.latency?.p99)})`,
      );
    }
  }
  return { mode, rates };
}

function ms(v: number | undefined): string {
  return v === undefined ? '-' : `${v.toFixed(2)} ms`;
}
