/**
 * Item 4 — outbound: the agent's `POST /v1/actions` → outbound pipeline (plugins in the pool) →
 * `outbound` frame → the connector's `outbound_result` → HTTP response, in requests per second
 * and latency with 1, 64 and 1 024 concurrent callers. Each run also drives two baselines from
 * the same load generator: a bare HTTP server doing the same JSON work (the loopback HTTP floor),
 * and a bare relay (HTTP → ws `outbound` → connector → `outbound_result` → HTTP), the least any
 * gateway must do. Sidecar overhead = sidecar − bare relay, per percentile.
 */
import { closedLoop, type LoadResult } from '../agent/http-load.js';
import { type Percentiles, percentiles } from '../lib/stats.js';
import { log } from './inbound.js';
import type { Rig } from './rig.js';
import type { Sizes } from './sizes.js';

/** One load level of one run. */
export interface OutboundPoint {
  readonly perS: number;
  readonly completed: number;
  readonly errors: number;
  readonly latency: Percentiles;
}

/** One concurrency level's runs. */
export interface OutboundLevel {
  readonly concurrency: number;
  readonly runs: {
    readonly bareHttp: OutboundPoint;
    readonly bareRelay: OutboundPoint;
    readonly sidecar: OutboundPoint;
  }[];
}

/** Item 4. */
export interface OutboundResult {
  readonly durationMs: number;
  readonly levels: OutboundLevel[];
}

/** A `send` to a chat the sidecar has seen (so scope re-attach has memory to add). */
export const SEND_ACTION = JSON.stringify({
  op: 'send',
  chat_id: '1100000000000000000',
  content: 'Here is the summary you asked for: three decisions, two open questions, one owner each.',
  reply_to: null,
  metadata: {},
});

function point(r: LoadResult): OutboundPoint {
  return {
    perS: r.completed / (r.elapsedMs / 1000),
    completed: r.completed,
    errors: r.errors,
    latency: percentiles(r.latenciesMs),
  };
}

/** Measure item 4 with the rig's current sidecar. The bare reader must be disconnected. */
export async function measureOutbound(rig: Rig, sizes: Sizes): Promise<OutboundResult> {
  const sidecar = rig.sidecar;
  if (!sidecar) throw new Error('outbound needs a running sidecar');
  await rig.dropReader();
  const ports = await rig.bare.startApi(rig.bareArgs());
  const targets = {
    bareHttp: `http://127.0.0.1:${ports.httpPort}/v1/actions`,
    bareRelay: `http://127.0.0.1:${ports.relayPort}/v1/actions`,
    sidecar: `${sidecar.apiUrl}/v1/actions`,
  };
  const load = (url: string, concurrency: number, durationMs: number) =>
    closedLoop({
      url,
      token: rig.apiToken,
      body: SEND_ACTION,
      concurrency,
      durationMs,
      maxRequests: 2_000_000,
    });
  // warm-up: JIT, connection pools, the pool's outbound chain
  for (const url of Object.values(targets)) await load(url, 16, Math.min(1_000, sizes.outboundMs));
  const levels: OutboundLevel[] = sizes.outboundConcurrency.map((concurrency) => ({ concurrency, runs: [] }));
  for (let i = 0; i < sizes.runs; i++) {
    for (const level of levels) {
      const c = level.concurrency;
      const bareHttp = point(await load(targets.bareHttp, c, sizes.outboundMs));
      const bareRelay = point(await load(targets.bareRelay, c, sizes.outboundMs));
      const sc = point(await load(targets.sidecar, c, sizes.outboundMs));
      level.runs.push({ bareHttp, bareRelay, sidecar: sc });
      log(
        `outbound c=${c} run ${i + 1}/${sizes.runs}: sidecar ${Math.round(sc.perS)}/s p99 ${sc.latency.p99.toFixed(2)} ms; bare relay ${Math.round(bareRelay.perS)}/s p99 ${bareRelay.latency.p99.toFixed(2)} ms; bare http ${Math.round(bareHttp.perS)}/s p99 ${bareHttp.latency.p99.toFixed(2)} ms${sc.errors ? `; ${sc.errors} errors` : ''}`,
      );
    }
  }
  return { durationMs: sizes.outboundMs, levels };
}
