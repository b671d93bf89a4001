/**
 * One flow of frames from the connector to a receiver, measured: through the real sidecar to the
 * loopback agent, or straight to the bare reader (the baseline). Both use the same frames, the
 * same sender and the same counting, so their ratio is the sidecar's cost.
 */
import { Tally } from '../agent/tally.js';
import type { BlastResult, BlastSpec } from '../connector/blaster.js';
import type { FrameKind } from '../connector/frame-lines.js';
import { pollUntil, sleep } from '../lib/clock.js';
import { cpuSeconds } from '../lib/proc-stats.js';
import { type Percentiles, percentiles } from '../lib/stats.js';
import type { Rig } from './rig.js';

/** A flow: what to send and how. */
export interface Flow {
  readonly kind: FrameKind;
  readonly n: number;
  readonly buffered: boolean;
  readonly sessions: number;
  /** Members taking turns in each chat (default 1). */
  readonly speakers?: number;
  /** Ceiling mode: frames in flight at most. */
  readonly window?: number;
  /** Paced mode: frames per second. */
  readonly ratePerS?: number;
  /** Bound on sending and on waiting for the last receipt, ms. */
  readonly maxMs: number;
}

/** What a flow measured. */
export interface FlowResult {
  readonly sent: number;
  readonly received: number;
  readonly duplicates: number;
  /** Distinct events per second, first send → last receipt. */
  readonly ratePerS: number;
  readonly latency?: Percentiles;
  /** CPU time of the receiving process (all threads) per event, µs: robust on a noisy machine. */
  readonly cpuUsPerEvent: number;
  readonly stopped: BlastResult['stopped'];
  /** Why events are missing, when some are (sidecar status and logged problems). */
  readonly diag?: string;
}

function result(
  blast: BlastResult,
  received: number,
  dup: number,
  lastUs: number,
  cpuS: number,
  lat?: Percentiles,
): FlowResult {
  const seconds = (lastUs - blast.firstUs) / 1e6;
  return {
    sent: blast.sent,
    received,
    duplicates: dup,
    ratePerS: received > 0 && seconds > 0 ? received / seconds : 0,
    cpuUsPerEvent: received > 0 ? (cpuS * 1e6) / received : Number.NaN,
    ...(lat ? { latency: lat } : {}),
    stopped: blast.stopped,
  };
}

/** Send `flow` to the sidecar and count at the agent. */
export async function throughSidecar(rig: Rig, flow: Flow, latency: boolean): Promise<FlowResult> {
  const agent = rig.pull ?? rig.push;
  const tag = rig.nextTag();
  const tally = new Tally(tag, flow.n, latency);
  agent.expect(tally);
  const cpu0 = rig.sidecar?.cpu() ?? Number.NaN;
  const blast = await rig.connector.blast('main', spec(flow, tag), () => tally.distinct);
  const r = await tally.done(flow.maxMs);
  const cpuS = (rig.sidecar?.cpu() ?? Number.NaN) - cpu0;
  const diag = r.distinct < flow.n ? await diagnose(rig) : undefined;
  if (flow.buffered) {
    // start the next measurement clean: every ack of this one has reached the connector
    await pollUntil(
      async () => ((await rig.connector.pending()) === 0 ? true : undefined),
      flow.maxMs,
      'acks',
      20,
    ).catch(() => undefined);
  }
  await sleep(100);
  const lat = latency ? percentiles(r.latenciesMs) : undefined;
  const res = result(blast, r.distinct, r.duplicates, r.lastUs, cpuS, lat);
  return diag ? { ...res, diag } : res;
}

/** The sidecar's own account of where events are (for a measurement that lost some). */
async function diagnose(rig: Rig): Promise<string> {
  const sc = rig.sidecar;
  if (!sc) return 'no sidecar';
  const status = await sc.status().catch((err: Error) => ({ error: err.message }));
  const { inbox, counters, pool, state } = status as Record<string, unknown>;
  return JSON.stringify({ state, inbox, counters, pool, problems: Object.fromEntries(sc.problems) });
}

/** Send `flow` to the bare reader (baseline) and count there. */
export async function throughBare(rig: Rig, flow: Flow, latency: boolean): Promise<FlowResult> {
  await rig.ensureReader();
  const tag = rig.nextTag();
  const counted = await rig.bare.expect(tag, flow.n, latency, flow.maxMs * 2);
  const cpu0 = cpuSeconds(rig.bare.rpc.pid);
  const blast = await rig.connector.blast('base', spec(flow, tag), () => rig.bare.received(tag));
  const r = await counted.done;
  const cpuS = cpuSeconds(rig.bare.rpc.pid) - cpu0;
  await sleep(100);
  return result(blast, r.distinct, r.duplicates, r.lastUs, cpuS, r.latency);
}

function spec(flow: Flow, tag: number): BlastSpec {
  return {
    kind: flow.kind,
    tag,
    n: flow.n,
    buffered: flow.buffered,
    sessions: flow.sessions,
    ...(flow.speakers ? { speakers: flow.speakers } : {}),
    maxMs: flow.maxMs,
    ...(flow.window ? { window: flow.window } : {}),
    ...(flow.ratePerS ? { ratePerS: flow.ratePerS } : {}),
  };
}
