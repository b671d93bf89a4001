/**
 * The targets of issue 6, checked against a run's medians. Each row says what was measured,
 * whether the target is met, and by how much (a ratio to the target, so "met easily" and
 * "missed badly" are visible at a glance).
 */
import { ratio } from '../lib/stats.js';
import { INBOUND_VARIANTS } from '../scenarios/inbound.js';
import { dec, int, median, pct, verdict } from './format.js';
import type { BenchResults } from './results.js';

/** Issue 6's RSS limit, in MB (10^6 bytes); the harness samples RSS in MiB (2^20 bytes). */
export const RSS_LIMIT_MB = 150;

/** MiB (2^20 bytes) as MB (10^6 bytes): 150 MB is 143.05 MiB. */
export function mibToMb(mib: number): number {
  return (mib * 2 ** 20) / 1e6;
}

/** One target row: [target, measured, verdict]. */
export type TargetRow = [string, string, string];

/** Every target the run has data for. */
export function targetRows(r: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const ib of r.inbound) {
    for (const [variant, label] of INBOUND_VARIANTS) {
      const sc = median(ib.runs.map((x) => x[`sidecar${variant}`].ratePerS));
      const share = median(
        ib.runs.map((x) => ratio(x[`sidecar${variant}`].ratePerS, x[`bare${variant}`].ratePerS)),
      );
      rows.push([
        `inbound ${ib.mode} ${label} ≥ 10 000 events/s`,
        `${int(sc)}/s`,
        verdict(sc >= 10_000, `${dec(sc / 10_000)}× the target`),
      ]);
      rows.push([
        `inbound ${ib.mode} ${label} ≥ 30 % of bare socket`,
        pct(share),
        verdict(share >= 0.3, `${dec(share / 0.3)}× the target`),
      ]);
    }
  }
  for (const lat of r.latency) {
    const at1k = lat.rates.find((x) => x.ratePerS === 1_000);
    if (!at1k) continue;
    const p99 = median(at1k.runs.map((x) => x.sidecar.latency?.p99 ?? Number.NaN));
    rows.push([
      `added latency p99 ≤ 10 ms at 1 000/s (${lat.mode})`,
      `${dec(p99)} ms`,
      verdict(p99 <= 10, `${dec(p99 / 10)}× the limit`),
    ]);
  }
  const c64 = r.outbound?.levels.find((l) => l.concurrency === 64);
  if (c64) {
    const over = median(c64.runs.map((x) => x.sidecar.latency.p99 - x.bareRelay.latency.p99));
    const overHttp = median(c64.runs.map((x) => x.sidecar.latency.p99 - x.bareHttp.latency.p99));
    rows.push([
      'outbound p99 overhead ≤ 5 ms at 64 callers',
      `${dec(over)} ms vs bare relay (${dec(overHttp)} ms vs bare HTTP)`,
      verdict(over <= 5, `${dec(over / 5)}× the limit`),
    ]);
  }
  const m = r.memory?.sidecar;
  if (m) {
    const peakMb = mibToMb(m.loadPeak);
    rows.push([
      `RSS ≤ ${RSS_LIMIT_MB} MB under load`,
      `${dec(m.loadPeak)} MiB peak (${dec(peakMb)} MB)`,
      verdict(peakMb <= RSS_LIMIT_MB, `${dec(peakMb / RSS_LIMIT_MB)}× the limit`),
    ]);
    rows.push([
      `no growth after warm-up (after ${int(r.memory?.totalEvents ?? 0)} events, ≤ +10 %)`,
      `${m.growth >= 0 ? '+' : ''}${pct(m.growth)}`,
      verdict(m.growth <= 0.1, `${dec(m.postWarmup)} → ${dec(m.afterRun)} MiB`),
    ]);
  }
  const rc = r.reconnect;
  if (rc && rc.runs.length > 0) {
    const worst = Math.max(...rc.runs.map((x) => x.restartToReadyMs));
    const med = median(rc.runs.map((x) => x.restartToReadyMs));
    rows.push([
      'ready ≤ 2 s after connector restart',
      `median ${int(med)} ms, worst ${int(worst)} ms`,
      verdict(worst <= 2_000, `worst ${dec(worst / 2_000)}× the limit`),
    ]);
    const lost = rc.runs.reduce((a, x) => a + x.lost, 0);
    rows.push([
      'events lost across restarts = 0',
      `${lost}`,
      verdict(lost === 0, `${rc.runs.length} restarts`),
    ]);
  }
  return rows;
}
