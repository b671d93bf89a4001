/**
 * Response actions alone, over a scripted pipeline and relay state: only an answer that says
 * nothing was sent (not connected, busy) is tried again, and only within the wait budget; a final
 * state ends the wait at once; everything else is final on the first answer.
 */
import test from 'ava';
import { SYNTHESISED } from '../../../core/protocol/actions.js';
import type { ActionOutcome } from '../../../sidecar/agent-api/action-pipeline.js';
import { ActionDeferred, type ActionTry } from '../../../sidecar/delivery/action-runner.js';
import { type ResponseActionRelay, runResponseAction } from '../../../sidecar/delivery/response-action.js';
import { createLogSink } from '../../helpers/log-sink.js';

const SEND = { op: 'send', chat_id: 'c1', content: 'hi' };
const ok: ActionOutcome = { status: 200, body: { result: { success: true, message_id: 'm1' } } };
const down: ActionOutcome = { status: 200, body: { result: SYNTHESISED.notConnected() } };
const busy: ActionOutcome = { status: 503, body: { error: { code: 'busy', message: 'retry later' } } };

// the waits' timers are unref'd (they must not keep a sidecar alive): keep this worker up meanwhile
const keepAlive = setInterval(() => {}, 1_000);
test.after.always(() => clearInterval(keepAlive));

/** A relay whose state the test moves, and a pipeline answering from a queue. */
function parts(answers: ActionOutcome[], state = 'reconnecting') {
  const listeners = new Set<(s: string) => void>();
  let current = state;
  const relay: ResponseActionRelay & { set(s: string): void } = {
    get state() {
      return current;
    },
    onState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(s) {
      current = s;
      for (const l of listeners) l(s);
    },
  };
  const calls: unknown[] = [];
  const execute = async (raw: unknown) => {
    calls.push(raw);
    return answers.shift() ?? ok;
  };
  const sink = createLogSink();
  return { relay, calls, execute, sink, listeners };
}

/** An attempt recording its marks, with the runner's drain signal. */
function recorder() {
  const log: string[] = [];
  const drain = new AbortController();
  const attempt: ActionTry = {
    restart: async () => {
      log.push('restart');
    },
    unsent: async () => {
      log.push('unsent');
    },
    signal: drain.signal,
  };
  return { log, drain, attempt };
}

test('not connected: waits for the connection, then runs again once', async (t) => {
  const { relay, calls, execute, sink, listeners } = parts([down]);
  const running = runResponseAction({ execute, relay, waitMs: 60_000, log: sink.logger }, SEND);
  await sink.waitFor((l) => l.msg === 'response action waits for the relay connection');
  t.is(calls.length, 1);
  relay.set('ready');
  t.like(await running, { result: { success: true } });
  t.is(calls.length, 2);
  t.is(listeners.size, 0);
});

test('not connected and the relay is revoked: no wait, the failure is final', async (t) => {
  const { relay, calls, execute, sink } = parts([down, down], 'revoked');
  await t.throwsAsync(runResponseAction({ execute, relay, waitMs: 60_000, log: sink.logger }, SEND), {
    message: /relay transport not connected/,
  });
  t.is(calls.length, 1);
});

test('nothing sent while the sidecar stops (relay stopped, transport closed): deferred, not failed', async (t) => {
  const closed: ActionOutcome = { status: 200, body: { result: SYNTHESISED.closed() } };
  for (const [answer, state] of [
    [down, 'stopped'],
    [closed, 'stopped'],
    [closed, 'ready'],
  ] as const) {
    const { relay, calls, execute, sink } = parts([answer], state);
    const marks = recorder();
    const err = await t.throwsAsync(
      runResponseAction({ execute, relay, waitMs: 60_000, log: sink.logger }, SEND, marks.attempt),
    );
    t.true(err instanceof ActionDeferred, `${state}: ${err?.message}`);
    t.is(calls.length, 1);
    t.deepEqual(marks.log, ['unsent'], 'the started mark is cleared: nothing went out');
  }
});

/** A response action whose first try met no connection, now waiting for one. */
async function waiting() {
  const { relay, calls, execute, sink } = parts([down]);
  const marks = recorder();
  const running = runResponseAction(
    { execute, relay, waitMs: 60_000, log: sink.logger },
    SEND,
    marks.attempt,
  );
  await sink.waitFor((l) => l.msg === 'response action waits for the relay connection');
  return { relay, calls, marks, running };
}

test('a try that met no connection clears its started mark before the wait and sets it before the next try', async (t) => {
  const { relay, marks, running } = await waiting();
  t.deepEqual(marks.log, ['unsent']);
  relay.set('ready');
  await running;
  t.deepEqual(marks.log, ['unsent', 'restart']);
});

test('draining ends a wait for the connection at once: deferred, the action kept', async (t) => {
  const { calls, marks, running } = await waiting();
  marks.drain.abort();
  t.true((await t.throwsAsync(running)) instanceof ActionDeferred);
  t.is(calls.length, 1);
  t.deepEqual(marks.log, ['unsent']);
});

test('not connected past the wait budget: the failure is final', async (t) => {
  const { relay, calls, execute, sink } = parts([down, down, down]);
  await t.throwsAsync(runResponseAction({ execute, relay, waitMs: 50, log: sink.logger }, SEND), {
    message: /relay transport not connected/,
  });
  t.is(calls.length, 1);
});

test('busy: tried again after the Retry-After pause', async (t) => {
  const { relay, calls, execute, sink } = parts([busy], 'ready');
  t.like(await runResponseAction({ execute, relay, waitMs: 60_000, log: sink.logger }, SEND), {
    result: { success: true },
  });
  t.is(calls.length, 2);
});

test('answers that may have been applied, or that the agent must fix, are never run again', async (t) => {
  const finals: ActionOutcome[] = [
    { status: 200, body: { result: SYNTHESISED.connectionLost() } },
    { status: 200, body: { result: SYNTHESISED.timedOut() } },
    // the transport stopped with the frame out: may have been applied
    { status: 200, body: { result: SYNTHESISED.closedPending() } },
    // a connector's own failure that happens to carry the same words is the connector's verdict
    { status: 200, body: { result: { ...SYNTHESISED.notConnected(), code: 'upstream' } } },
    { status: 400, body: { error: { code: 'invalid_action', message: 'content: required' } } },
    { status: 503, body: { error: { code: 'relay_revoked', message: 'revoked' } } },
  ];
  for (const answer of finals) {
    const { relay, calls, execute, sink } = parts([answer], 'ready');
    await t.throwsAsync(runResponseAction({ execute, relay, waitMs: 60_000, log: sink.logger }, SEND));
    t.is(calls.length, 1, JSON.stringify(answer.body));
  }
});
