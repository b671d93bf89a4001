/**
 * The phases of a soak run after the wiring: the chaos (events, agent actions and faults at
 * random gaps), the drain with the faults off, and the checks at the end.
 */
import { checkDelivery, type SoakEvidence } from './delivery-invariants.js';
import { neverDelivered } from './event-generator.js';
import { checkSidecar } from './sidecar-invariants.js';
import type { SoakParts } from './soak-parts.js';
import { type SoakOptions, sleep } from './soak-run.js';

/**
 * The chaos phase: events at random gaps, push-agent actions of its own, and the fault schedule,
 * until the duration is over (and, with `cover`, every kind of fault ran).
 */
export async function runChaos(p: SoakParts, opts: SoakOptions): Promise<void> {
  const { run } = p;
  const eventGap = opts.eventGapMs ?? 25;
  const faultGap = opts.faultGapMs ?? 1_500;
  const endAt = Date.now() + opts.durationMs;
  // drawn before the first event: the draws of a seed stay in one order
  const toCover = opts.cover ? p.schedule.coverOrder() : [];
  let faulting = true;
  const emitter = (async () => {
    while (faulting) {
      p.events.emit();
      await sleep(Math.floor(run.rand() * 2 * eventGap));
    }
  })();
  // push-mode agents also post actions of their own, beside the ones in their answers
  const actor = (async () => {
    while (faulting) {
      await sleep(150 + Math.floor(run.rand() * 200));
      const b = p.sidecar.base();
      const last = p.ledger.accepted.at(-1);
      if (p.push && b && last) void p.actions.post(b, last);
    }
  })();
  await p.schedule.runUntil(endAt, toCover, faultGap);
  faulting = false;
  await emitter;
  await actor;
}

/**
 * The drain: faults off, every part up, until the connector's buffer is empty, every event that
 * must arrive was accepted and the inbox is empty, or `drainMs` passed.
 */
export async function drain(p: SoakParts, drainMs: number): Promise<void> {
  const { run, push, pull, connector, sidecar, ledger } = p;
  run.chaos = false;
  if (push) {
    push.faults = undefined;
    await push.gate.up();
  }
  // a delivery the pull agent left unacked holds its session until the stream reconnects
  if (pull) {
    pull.chaos = false;
    pull.dropStream();
  }
  if (!connector.running) await connector.up();
  if (!sidecar.running) await sidecar.start();
  run.say(`${run.since()} ms: draining`);
  const mustArrive = () =>
    p.events.events.filter(
      (e) => (!e.poison || p.replays.replayed.get(e.seq) === true) && !e.atRisk && !neverDelivered(e.kind),
    );
  const drained = async () => {
    if (connector.pendingIds().length > 0) return false;
    const acc = new Set(ledger.accepted.map((s) => s.seq));
    if (!mustArrive().every((e) => acc.has(e.seq))) return false;
    const b = sidecar.base();
    if (!b) return false;
    try {
      const res = await fetch(`${b}/v1/status`, { headers: { authorization: `Bearer ${p.token}` } });
      const status = (await res.json()) as { inbox?: { pending?: number } };
      return status.inbox?.pending === 0;
    } catch {
      return false;
    }
  };
  const drainUntil = Date.now() + drainMs;
  while (!(await drained()) && Date.now() < drainUntil) await sleep(100);
}

/** Check every invariant of the drained run (violations go to `p.run`). */
export async function checkEnd(p: SoakParts, mode: 'push' | 'pull'): Promise<void> {
  const evidence: SoakEvidence = {
    run: p.run,
    mode,
    events: p.events.events,
    ledger: p.ledger,
    connector: p.connector,
    actions: p.actions.results,
    replayed: p.replays.replayed,
  };
  checkDelivery(evidence);
  await checkSidecar(evidence, {
    base: p.sidecar.base(),
    dataDir: p.dataDir,
    token: p.token,
    lastLife: p.sidecar.lives.at(-1),
  });
}
