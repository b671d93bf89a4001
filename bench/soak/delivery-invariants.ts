/**
 * The end-to-end invariants of delivery, checked once the soak has drained, from what the soak
 * sent, what the connector saw and what the agent's ledger holds: every buffered frame acked,
 * every event delivered under one id and accepted (unless poison or lost at a cut, which the
 * contract allows), each session in order, no action applied twice.
 *
 * The checks are synchronous on purpose: the agent keeps receiving while they run, and the
 * sidecar-side checks that follow ({@link checkDeadLetters}) must see the same ledger.
 */
import type { ActionResult } from './agent-actions.js';
import type { ChaosConnector } from './chaos-connector.js';
import { neverDelivered, type SoakEvent } from './event-generator.js';
import type { AgentLedger } from './soak-agents.js';
import type { SoakRun } from './soak-run.js';

/** What the checks read. */
export interface SoakEvidence {
  readonly run: SoakRun;
  readonly mode: 'push' | 'pull';
  readonly events: readonly SoakEvent[];
  readonly ledger: AgentLedger;
  readonly connector: ChaosConnector;
  /** Action content ⇒ what the API answered. */
  readonly actions: ReadonlyMap<string, ActionResult>;
  /** seq ⇒ its dead letter was replayed (true: confirmed). */
  readonly replayed: ReadonlyMap<number, boolean>;
}

/** Count what happened and check the delivery invariants; violations go to `e.run`. */
export function checkDelivery(e: SoakEvidence): void {
  const { run, events, ledger } = e;
  run.bump('eventsSent', events.length);
  run.bump('eventsBuffered', events.filter((x) => x.buffered).length);
  run.bump('eventsAtRisk', events.filter((x) => x.atRisk).length);
  run.bump('poison', events.filter((x) => x.poison).length);
  run.bump('agentRequests', ledger.received.length);
  run.bump('agentAccepted', ledger.accepted.length);
  run.bump('resentAfterAccept', ledger.resentAfterAccept);
  checkBufferAcked(e);
  checkExactlyOnce(e);
  checkSessionOrder(e);
  checkActions(e);
}

/** The seqs the agent accepted. */
export function acceptedSeqs(ledger: AgentLedger): Set<number | undefined> {
  return new Set(ledger.accepted.map((s) => s.seq));
}

/** 1. buffered: the connector's buffer is empty (every buffered frame acked). */
function checkBufferAcked({ run, events, connector }: SoakEvidence): void {
  const pending = connector.pendingIds();
  const byBuffer = new Map(events.map((e) => [e.bufferId, e]));
  if (pending.length > 0) {
    const what = pending
      .slice(0, 10)
      .map((id) => `${id} (soak-${byBuffer.get(id)?.seq} ${byBuffer.get(id)?.kind})`);
    run.violations.push(`buffered frames never acked: ${what.join(', ')}`);
  }
}

/** 2. exactly once: one delivery id per event; accepted unless poison (or lost at risk). */
function checkExactlyOnce({ run, events, ledger }: SoakEvidence): void {
  const idsBySeq = new Map<number, Set<string>>();
  for (const s of ledger.received) {
    if (s.seq === undefined) continue;
    const ids = idsBySeq.get(s.seq) ?? new Set<string>();
    idsBySeq.set(s.seq, ids);
    ids.add(s.id);
  }
  const acc = acceptedSeqs(ledger);
  let lostAtRisk = 0;
  for (const ev of events) {
    const ids = idsBySeq.get(ev.seq);
    if (ids && ids.size > 1) {
      run.violations.push(
        `soak-${ev.seq} (${ev.kind}, ${ev.buffered ? `buffered ${ev.bufferId}` : 'live'}) delivered under ${ids.size} ids: ${[...ids].join(' ')}`,
      );
    }
    if (neverDelivered(ev.kind)) {
      if (ids) run.violations.push(`soak-${ev.seq} (${ev.kind}): a frame to dead-letter reached the agent`);
      continue;
    }
    if (ev.poison) continue;
    if (!acc.has(ev.seq)) {
      if (ev.atRisk) lostAtRisk += 1;
      else
        run.violations.push(
          `soak-${ev.seq} (${ev.kind}, ${ev.buffered ? `buffered ${ev.bufferId}` : `live on conn ${ev.connSeq}`}, sent at ${ev.sentAt - run.t0} ms) never accepted by the agent${ids ? ` (seen ${ids.size}×)` : ' (never seen)'}`,
        );
    }
  }
  run.bump('lostAtRisk', lostAtRisk);
  const unknown = ledger.received.filter((s) => s.type === 'message' && s.seq === undefined).length;
  if (unknown > 0) run.violations.push(`${unknown} deliveries without a soak marker`);
}

/** 3. per-session order (docs/decisions.md: per-session FIFO of commits in arrival order). */
function checkSessionOrder({ run, mode, events, ledger }: SoakEvidence): void {
  const t0 = run.t0;
  const lastBySession = new Map<string, number>();
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  // push: the order of the agent's first 2xx (a session's requests are sequential); pull: the
  // order deliveries first came down the stream (one unacked per session: the next is sent
  // only after the ack, but the 204s of two acks may resolve in either order at the agent)
  const firstSeen = new Set<number>();
  const orderOf =
    mode === 'push'
      ? ledger.accepted
      : ledger.received.filter((s) => s.seq !== undefined && !firstSeen.has(s.seq) && firstSeen.add(s.seq));
  for (const s of orderOf) {
    if (s.seq === undefined || !s.session || s.type !== 'message') continue;
    // a dead letter replayed is queued behind what its session has now (decisions.md); a live
    // frame sent again lands where its copy does when the first was lost at a cut
    const me = bySeq.get(s.seq);
    if (me?.poison || me?.resentUnseen) continue;
    const prev = lastBySession.get(s.session);
    if (prev !== undefined && s.seq < prev) {
      const ev = bySeq.get(s.seq);
      const pv = bySeq.get(prev);
      const how = (e: SoakEvent | undefined) =>
        `${e?.kind} ${e?.buffered ? e.bufferId : `live on conn ${e?.connSeq}`}${e?.resent ? `, sent ${e.resent + 1}×` : ''}${e?.atRisk ? ', at risk' : ''}, at ${(e?.sentAt ?? t0) - t0} ms`;
      run.violations.push(
        `order: in ${s.session} soak-${s.seq} (${how(ev)}) ${mode === 'push' ? 'accepted' : 'sent'} after soak-${prev} (${how(pv)})`,
      );
    }
    lastBySession.set(s.session, Math.max(prev ?? 0, s.seq));
  }
}

/** 4. outbound actions: none applied twice; a success reached the connector exactly once. */
function checkActions({ run, connector, actions }: SoakEvidence): void {
  const outboundCount = new Map<string, number>();
  for (const o of connector.outbounds) {
    if (o.content?.startsWith('act-')) outboundCount.set(o.content, (outboundCount.get(o.content) ?? 0) + 1);
  }
  run.bump('outboundFrames', connector.outbounds.length);
  run.bump('actionsPosted', actions.size);
  for (const [content, n] of outboundCount)
    if (n > 1) run.violations.push(`action ${content} reached the connector ${n}×`);
  for (const [content, r] of actions) {
    if (r.status >= 400 && r.status !== 503) {
      run.violations.push(
        `action ${content} (${r.op} for soak-${r.seq}) refused: ${r.status} ${r.code ?? ''}`,
      );
    }
    if (r.success === true && outboundCount.get(content) !== 1) {
      run.violations.push(
        `action ${content} answered success but reached the connector ${outboundCount.get(content) ?? 0}×`,
      );
    }
  }
}
