/**
 * Item 6 — reconnect: a fresh sidecar (backoff ladder at its start, as after a long stable
 * connection) receives buffered frames at a steady rate; the connector process is restarted
 * (graceful close, 1001, then a new process on the same port that redelivers every frame not yet
 * acked, with its original bufferId, like a durable connector buffer). Measured: connector
 * listening again → handshake complete on the new connection, the same from `/readyz`, the whole
 * outage, and events lost (must be 0) or duplicated at the agent.
 */
import { Tally } from '../agent/tally.js';
import { nowUs, pollUntil, sleep } from '../lib/clock.js';
import { log } from './inbound.js';
import type { Rig } from './rig.js';
import type { Sizes } from './sizes.js';

/** One restart. */
export interface ReconnectRun {
  /** New connector listening → first handshake on it, ms. */
  readonly restartToReadyMs: number;
  /** New connector listening → `/readyz` 200, ms (10 ms polling). */
  readonly restartToReadyzMs: number;
  /** Close requested → handshake on the new connector, ms (includes the connector's own restart). */
  readonly outageMs: number;
  /** Buffered frames the old connector still owed when it closed. */
  readonly owed: number;
  readonly sent: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Dials the sidecar made in total (reconnect counter after the run). */
  readonly reconnects: number;
}

/** Item 6. */
export interface ReconnectResult {
  readonly ratePerS: number;
  readonly n: number;
  readonly runs: ReconnectRun[];
}

/** Measure item 6 (starts its own sidecars). */
export async function measureReconnect(rig: Rig, sizes: Sizes): Promise<ReconnectResult> {
  const runs: ReconnectRun[] = [];
  const n = sizes.reconnectN;
  const rate = sizes.reconnectRate;
  for (let i = 0; i < sizes.reconnectRuns; i++) {
    const sc = await rig.startSidecar('push');
    const tag = rig.nextTag();
    const tally = new Tally(tag, n, false);
    rig.push.expect(tally);
    const spec = {
      kind: 'inbound' as const,
      tag,
      n,
      buffered: true,
      sessions: sizes.sessions,
      ratePerS: rate,
    };
    const maxMs = Math.round((n / rate) * 1000) + 30_000;
    const first = rig.connector
      .blast('main', { ...spec, maxMs }, () => tally.distinct)
      .catch(() => undefined);
    await sleep(sizes.restartAfterMs);

    // watch /readyz through the outage
    let polling = true;
    let readyzUs = 0;
    let sawDown = false;
    const poller = (async () => {
      while (polling) {
        const ok = await sc.ready();
        if (!ok) sawDown = true;
        else if (sawDown && readyzUs === 0) readyzUs = nowUs();
        await sleep(10);
      }
    })();

    const closeUs = nowUs();
    const { closedPending, nextSeq, next } = await rig.restartConnector();
    await first;
    const handshake = await pollUntil(
      () => next.handshakes.find((h) => h.which === 'main'),
      60_000,
      'the sidecar to reconnect',
    );
    const rest = await next.blast('main', { ...spec, fromSeq: nextSeq, maxMs }, () => tally.distinct);
    const r = await tally.done(30_000);
    await pollUntil(() => (readyzUs > 0 ? true : undefined), 5_000, '/readyz 200').catch(() => undefined);
    polling = false;
    await poller;
    const status = await sc.status();
    const run: ReconnectRun = {
      restartToReadyMs: (handshake.atUs - next.listeningUs) / 1000,
      restartToReadyzMs: readyzUs > 0 ? (readyzUs - next.listeningUs) / 1000 : Number.NaN,
      outageMs: (handshake.atUs - closeUs) / 1000,
      owed: closedPending,
      sent: nextSeq + rest.sent,
      lost: n - r.distinct,
      duplicates: r.duplicates,
      reconnects: Number(status.counters?.reconnects ?? Number.NaN),
    };
    runs.push(run);
    log(
      `reconnect run ${i + 1}/${sizes.reconnectRuns}: ready ${run.restartToReadyMs.toFixed(0)} ms after restart (readyz ${run.restartToReadyzMs.toFixed(0)} ms), outage ${run.outageMs.toFixed(0)} ms, owed ${run.owed}, lost ${run.lost}, dup ${run.duplicates}, dials ${run.reconnects}`,
    );
  }
  await rig.stopSidecar();
  return { ratePerS: rate, n, runs };
}
