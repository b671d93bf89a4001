/**
 * The shutdown sequence alone, over parts that record what was asked of them: the order, the
 * budget split, and that a failing or hanging step never skips the closes after it. The real
 * parts are covered through the process in shutdown-*.test.ts.
 */
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { CHECKPOINT_STOP_MIN_MS } from '../../../core/store/checkpointer.js';
import {
  CLOSE_RESERVE_MAX_MS,
  closeReserveMs,
  type Drainable,
  drain,
  within,
} from '../../../sidecar/lifecycle/drain.js';
import { startHarness } from '../../core/transport/relay-harness.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { testConfig } from '../../helpers/test-config.js';

type Behaviour = 'ok' | 'fail' | 'hang';

/** Parts that log each call (with the budget handed to it) and behave as told. */
function parts(state: string, how: Partial<Record<string, Behaviour>> = {}, acked = true) {
  const calls: string[] = [];
  const budgets: Record<string, number> = {};
  const sink = createLogSink();
  const act = (name: string, ms?: number): Promise<void> => {
    calls.push(name);
    if (ms !== undefined) budgets[name] = ms;
    const b = how[name] ?? 'ok';
    if (b === 'fail') return Promise.reject(new Error(`${name} broke`));
    if (b === 'hang') return new Promise(() => {});
    return Promise.resolve();
  };
  const sc: Drainable = {
    config: testConfig({ relay: { shutdownGoingIdleTimeoutMs: 50 } }),
    log: sink.logger,
    metrics: new Metrics(),
    client: {
      state,
      goingIdle: async (ms) => {
        await act('goingIdle', ms);
        return acked;
      },
      outboundSettled: () => act('outbound'),
      stop: () => act('stop'),
    },
    plugins: { close: () => act('plugins') },
    inbox: {
      quiesce: async (ms) => {
        await act('inbox', ms);
        return 0;
      },
      close: (ms) => act('inboxClose', ms),
    },
    api: { close: (ms) => act('api', ms) },
  };
  return { sc, calls, budgets, sink };
}

test('the order: going_idle (when ready), inbox, pending outbound, socket, API, inbox close, pool; work steps leave the closing reserve', async (t) => {
  const { sc, calls, budgets, sink } = parts('ready');
  await drain(sc, 1_000);
  t.deepEqual(calls, ['goingIdle', 'inbox', 'outbound', 'stop', 'api', 'inboxClose', 'plugins']);
  // going_idle: the configured 50 ms; the inbox: at most the budget less the reserve (250 ms)
  t.is(budgets.goingIdle, 50);
  t.true((budgets.inbox ?? Infinity) <= 750);
  t.true((budgets.api ?? Infinity) <= 1_000);
  t.is(sink.withMsg('shutdown complete').length, 1);
  t.is(sink.lines.filter((l) => l.code).length, 0);
});

test('the going_idle wait is cut to what the work steps may use when the budget is shorter', async (t) => {
  // going idle is configured to 50 ms; a 40 ms budget keeps 10 ms for the closes, leaving 30
  const { sc, budgets } = parts('ready');
  await drain(sc, 40);
  t.true((budgets.goingIdle ?? Infinity) <= 30, `going_idle was given ${budgets.goingIdle} ms`);
});

test('no going_idle when not connected; an unacked going_idle is noted and the drain goes on', async (t) => {
  const down = parts('reconnecting');
  await drain(down.sc, 1_000);
  t.deepEqual(down.calls, ['inbox', 'outbound', 'stop', 'api', 'inboxClose', 'plugins']);

  const unacked = parts('ready', {}, false);
  await drain(unacked.sc, 1_000);
  // the client reports the missed ack with its code; the drain only says it goes on
  t.is(unacked.sink.withMsg('going_idle not acknowledged; closing anyway').length, 1);
  t.is(unacked.sink.withCode('CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT').length, 0);
  t.deepEqual(unacked.calls.slice(1), ['inbox', 'outbound', 'stop', 'api', 'inboxClose', 'plugins']);
});

test('a failing step is reported with its name and never skips the closes after it', async (t) => {
  const { sc, calls, sink } = parts('ready', { inbox: 'fail', plugins: 'fail' });
  await drain(sc, 1_000);
  t.deepEqual(calls, ['goingIdle', 'inbox', 'outbound', 'stop', 'api', 'inboxClose', 'plugins']);
  const failed = sink.withCode('CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED').map((l) => [l.step, l.msg]);
  t.deepEqual(failed, [
    ['inbox', 'shutdown step failed'],
    ['plugins', 'shutdown step failed'],
  ]);
  t.is(sink.withMsg('shutdown complete').length, 1);
});

test('steps that never finish are cut off by the budget and the drain still completes', async (t) => {
  const { sc, calls, sink } = parts('ready', { goingIdle: 'hang', stop: 'hang', api: 'hang' });
  await drain(sc, 200);
  t.deepEqual(calls, ['goingIdle', 'inbox', 'outbound', 'stop', 'api', 'inboxClose', 'plugins']);
  const cut = sink.withCode('CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED').map((l) => l.step);
  t.deepEqual(cut, ['going_idle', 'socket', 'api']);
  t.is(sink.withMsg('shutdown complete').length, 1);
});

test('the inbox close is not reported cut while it takes what it may: its share and the checkpoint thread’s minimum', async (t) => {
  const { sc, sink } = parts('reconnecting');
  // the longest a real inbox's close takes for a share of `ms`: ingest and deliveries use the
  // share, then the checkpoint thread's stop is given at least CHECKPOINT_STOP_MIN_MS
  const inbox = {
    ...sc.inbox,
    close: (ms?: number) =>
      new Promise<void>((resolve) => setTimeout(resolve, (ms ?? 0) + CHECKPOINT_STOP_MIN_MS - 10)),
  };
  await drain({ ...sc, inbox }, 400);
  // was: cut at its share + 50 ms (CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED, step inbox_close)
  t.deepEqual(sink.withCode('CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED'), []);
});

test('a call whose result is on its way when the drain starts gets that result, not `transport closed`', async (t) => {
  // the connector answers each outbound after a short while, as a real one over a network does
  const h = await startHarness(t, {
    dc: { respond: () => new Promise((resolve) => setTimeout(() => resolve({ success: true }), 150)) },
  });
  await h.waitState('ready');
  const { sc } = parts('ready');
  const call = h.client.send({ op: 'send', chat_id: 'c1', content: 'hi', reply_to: null, metadata: {} });
  await h.dc.waitFor((f) => f.dir === 'in' && f.frame.type === 'outbound');
  await drain({ ...sc, log: h.sink.logger, metrics: h.metrics, client: realClient(h.client) }, 5_000);
  t.deepEqual(await call, { success: true });
  t.is(h.client.state, 'stopped');
});

test('a connector that never answers: the wait for pending calls is cut off and the drain goes on', async (t) => {
  const h = await startHarness(t, { dc: { respond: () => undefined } });
  await h.waitState('ready');
  const { sc, calls } = parts('ready');
  const call = h.client.send({ op: 'send', chat_id: 'c1', content: 'hi', reply_to: null, metadata: {} });
  await h.dc.waitFor((f) => f.dir === 'in' && f.frame.type === 'outbound');
  await drain({ ...sc, log: h.sink.logger, metrics: h.metrics, client: realClient(h.client) }, 1_000);
  t.deepEqual(await call, { success: false, error: 'relay transport closed', ambiguous: true });
  // the wait is the step cut off (on a loaded machine a later close may be cut too)
  const cut = h.sink.withCode('CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED').map((l) => l.step);
  t.is(cut[0], 'outbound');
  t.deepEqual(calls, ['inbox', 'api', 'inboxClose', 'plugins']);
});

/** The drain's view of a real relay client. */
function realClient(client: Awaited<ReturnType<typeof startHarness>>['client']): Drainable['client'] {
  return {
    state: client.state,
    goingIdle: (ms) => client.goingIdle(ms),
    outboundSettled: () => client.outboundSettled(),
    stop: () => client.stop(),
  };
}

test('the closing reserve is a quarter of the budget, at most 1 s', (t) => {
  t.is(closeReserveMs(2_000), 500);
  t.is(closeReserveMs(10_000), CLOSE_RESERVE_MAX_MS);
  t.is(closeReserveMs(0), 0);
  t.is(closeReserveMs(-5), 0);
});

test('within: true when the work finishes in time, false when it does not, its error when it fails', async (t) => {
  t.true(await within(Promise.resolve(), 50));
  t.false(await within(new Promise(() => {}), 10));
  await t.throwsAsync(within(Promise.reject(new Error('boom')), 50), { message: 'boom' });
});

test('a connector that never acks going_idle: the missed ack is reported once, by the client', async (t) => {
  const h = await startHarness(t, { dc: { answerGoingIdle: false } });
  await h.waitState('ready');
  const { sc, calls } = parts('ready');
  const drained: Drainable = {
    ...sc,
    log: h.sink.logger,
    metrics: h.metrics,
    client: realClient(h.client),
  };
  await drain(drained, 1_000);
  t.deepEqual(calls, ['inbox', 'api', 'inboxClose', 'plugins']); // going_idle and stop: the real client
  t.is(h.received('going_idle').length, 1);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT').length, 1);
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT' }), 1);
  t.is(h.client.state, 'stopped');
});
