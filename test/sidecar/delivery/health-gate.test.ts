/**
 * The health gate alone, on a manual clock: which results open it and which close it, one probe
 * at a time on the shared backoff, a failed probe's delivery behind the other waiters, and a
 * `Retry-After` held for every session. The scheduler around it is tested against a real agent
 * in agent-outage.test.ts.
 */
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import type { DeliveryResult } from '../../../sidecar/delivery/delivery-target.js';
import { type GatePass, HealthGate } from '../../../sidecar/delivery/health-gate.js';
import { FakeClock } from '../../core/transport/fake-clock.js';
import { createLogSink } from '../../helpers/log-sink.js';

const DOWN: DeliveryResult = { kind: 'retry', reason: 'HTTP 503', status: 503 };
const UP: DeliveryResult = { kind: 'delivered', actions: [] };
const REJECTED: DeliveryResult = { kind: 'rejected', status: 422 };

function gate(openAfter = 3) {
  const clock = new FakeClock();
  const sink = createLogSink();
  const metrics = new Metrics();
  // random 0.5: every backoff is half its ceiling (base 100, max 1 000)
  const g = new HealthGate({
    openAfter,
    retry: { baseMs: 100, maxMs: 1_000 },
    clock,
    log: sink.logger,
    metrics,
    random: () => 0.5,
    pending: () => 42,
  });
  return { g, clock, sink, metrics };
}

/** Start `n` waits; their outcomes fill in as they settle. */
function waiters(g: HealthGate, n: number): (GatePass | undefined)[] {
  const out: (GatePass | undefined)[] = Array.from({ length: n }, () => undefined);
  for (let i = 0; i < n; i++)
    void g.pass().then((p) => {
      out[i] = p;
    });
  return out;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('opens after consecutive agent-down results, once; a 2xx or a 4xx between them starts over', async (t) => {
  const { g, sink, metrics } = gate(3);
  g.record(DOWN, false);
  g.record(DOWN, false);
  g.record(REJECTED, false);
  g.record(DOWN, false);
  g.record(DOWN, false);
  g.record(UP, false);
  g.record(DOWN, false);
  // the store failing an attempt's start says nothing of the agent
  g.record({ kind: 'retry', reason: 'attempt not recorded: disk I/O error', local: true }, false);
  g.record({ kind: 'gone' }, false);
  g.record(DOWN, false);
  t.false(g.isOpen);
  t.is(await g.pass(), 'go');
  g.record({ kind: 'retry', reason: 'ECONNREFUSED' }, false);
  t.true(g.isOpen);
  g.record(DOWN, false);
  const lines = sink.withCode('CORE_ERR_DELIVERY_AGENT_UNREACHABLE');
  t.is(lines.length, 1);
  t.like(lines[0], { msg: 'agent unreachable', reason: 'ECONNREFUSED', failures: 3, pending: 42 });
  t.is(await metrics.value('relay_agent_unreachable'), 1);
  t.is(await metrics.value('relay_agent_outages_total'), 1);
  t.like(g.reach, { reachable: false, reason: 'ECONNREFUSED', failedProbes: 0 });
});

test('while open one probe at a time goes on the backoff; a failed one waits behind the others; a 2xx lets all go', async (t) => {
  const { g, clock, sink, metrics } = gate(1);
  g.record(DOWN, false);
  const w = waiters(g, 3);
  await flush();
  t.deepEqual(w, [undefined, undefined, undefined], 'nothing before the first backoff (50 ms)');
  clock.advance(49);
  await flush();
  t.deepEqual(w, [undefined, undefined, undefined]);
  clock.advance(1);
  await flush();
  t.deepEqual(w, ['probe', undefined, undefined]);
  // the probe failed: its delivery waits again, at the back; the next probe after 100 ms
  g.record(DOWN, true);
  const again = waiters(g, 1);
  clock.advance(99);
  await flush();
  t.deepEqual([...w, ...again], ['probe', undefined, undefined, undefined]);
  clock.advance(1);
  await flush();
  t.deepEqual([...w, ...again], ['probe', 'probe', undefined, undefined], 'the next waiter probes');
  t.is(g.reach.failedProbes, 1);
  clock.advance(10_000);
  await flush();
  t.deepEqual([...w, ...again], ['probe', 'probe', undefined, undefined], 'never two probes out');
  clock.advance(500);
  g.record(UP, true);
  await flush();
  t.deepEqual([...w, ...again], ['probe', 'probe', 'go', 'go']);
  t.false(g.isOpen);
  t.is(await g.pass(), 'go');
  const back = sink.withMsg('agent reachable again');
  t.is(back.length, 1);
  t.like(back[0], { downMs: 10_650, failedProbes: 1 });
  t.is(await metrics.value('relay_agent_unreachable'), 0);
});

test('a probe not sent is handed on at once; stop wakes every waiter', async (t) => {
  const { g, clock } = gate(1);
  g.record(DOWN, false);
  const w = waiters(g, 3);
  clock.advance(50);
  await flush();
  t.deepEqual(w, ['probe', undefined, undefined]);
  g.handBack();
  await flush();
  t.deepEqual(w, ['probe', 'probe', undefined]);
  // a probe that reached no agent (acked meanwhile) is handed on likewise
  g.record({ kind: 'gone' }, true);
  await flush();
  t.deepEqual(w, ['probe', 'probe', 'probe']);
  const late = waiters(g, 1);
  g.stop();
  await flush();
  t.deepEqual(late, ['stopped']);
  t.is(await g.pass(), 'stopped');
  t.is(clock.pending(), 0, 'no timer left armed');
});

test('Retry-After opens the gate at once and holds every session until it has passed, capped at retryMaxMs', async (t) => {
  const { g, clock, sink } = gate(3);
  g.record({ kind: 'retry', reason: 'HTTP 429', status: 429, retryAfterMs: 700 }, false);
  t.true(g.isOpen, 'one answer with Retry-After is enough');
  t.is(sink.withCode('CORE_ERR_DELIVERY_AGENT_UNREACHABLE').length, 1);
  const w = waiters(g, 2);
  clock.advance(699);
  await flush();
  t.deepEqual(w, [undefined, undefined]);
  clock.advance(1);
  await flush();
  t.deepEqual(w, ['probe', undefined]);
  // an hour: held for retryMaxMs (1 s), not the probe's own 100 ms backoff
  g.record({ kind: 'retry', reason: 'HTTP 503', status: 503, retryAfterMs: 3_600_000 }, true);
  clock.advance(999);
  await flush();
  t.deepEqual(w, ['probe', undefined]);
  clock.advance(1);
  await flush();
  t.deepEqual(w, ['probe', 'probe']);
  // a later Retry-After from a request that was in flight never shortens the wait (200 ms now)
  g.record(DOWN, true);
  g.record({ kind: 'retry', reason: 'HTTP 429', status: 429, retryAfterMs: 0 }, false);
  const next = waiters(g, 1);
  clock.advance(199);
  await flush();
  t.deepEqual(next, [undefined]);
  clock.advance(1);
  await flush();
  t.deepEqual(next, ['probe']);
});

test('a probe that fails after another delivery closed the gate counts toward opening it again, not as a probe', async (t) => {
  const { g, clock } = gate(2);
  g.record(DOWN, false);
  g.record(DOWN, false);
  const w = waiters(g, 2);
  clock.advance(50);
  await flush();
  t.deepEqual(w, ['probe', undefined]);
  // a request in flight since before the outage comes back 2xx: the agent is up
  g.record(UP, false);
  await flush();
  t.deepEqual(w, ['probe', 'go']);
  g.record(DOWN, true);
  t.false(g.isOpen, 'one failure of two');
  t.like(g.reach, { reachable: true, failedProbes: 0 });
  t.is(clock.pending(), 0, 'no probe scheduled while reachable');
  g.record(DOWN, false);
  t.true(g.isOpen);
  // the probe's report freed the way: the next one goes after the first backoff
  const next = waiters(g, 1);
  clock.advance(50);
  await flush();
  t.deepEqual(next, ['probe']);
});
