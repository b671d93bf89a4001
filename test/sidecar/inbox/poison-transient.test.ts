/**
 * Transient failures on the real pool with fault-injection plugins: a crashing hook or a converter
 * returning an invalid event leaves the frame un-acked until maxAttempts, then quarantines and acks it;
 * the attempt count survives a restart, and a live frame is kept as a dead letter, never lost.
 */
import test from 'ava';
import { fixturePlugin, forward, inbound, rows, sharedHost, startInbox, until } from './inbox-harness.js';

const faults = sharedHost([
  fixturePlugin('echo'),
  fixturePlugin('fault-throws'),
  // a short budget of its own: the hang is cut quickly while other plugins keep the default
  { ...fixturePlugin('fault-hangs'), timeoutMs: 200 },
  fixturePlugin('fault-garbage'),
]);

test('a crashing hook leaves the frame un-acked until maxAttempts, then quarantines and acks it', async (t) => {
  const h = await startInbox(t, faults(), { start: false, config: { inbox: { maxAttempts: 3 } } });
  const send = () => h.inbox.routes.inbound(inbound({ text: 'fault:throw', bufferId: 'tr-1' }));
  for (let attempt = 1; attempt <= 2; attempt++) {
    send();
    await h.sink.waitFor(
      (l) => l.msg === 'transient failure, frame left unacked for redelivery' && l.attempts === attempt,
    );
    t.deepEqual(h.acks, []);
  }
  send();
  await until(() => h.acks.length === 1);
  t.deepEqual(h.acks, [{ bufferId: 'tr-1', committedBefore: true }]);
  t.is(h.inbox.stats().dead_letters[0]?.code, 'CORE_ERR_PLUGIN_QUARANTINED');
  t.is(h.sink.withCode('CORE_ERR_PLUGIN_QUARANTINED').length, 1);
  t.is(rows(h).length, 0);
});

test('a converter returning an invalid event is transient: retried until maxAttempts, then quarantined', async (t) => {
  const h = await startInbox(t, faults(), { start: false, config: { inbox: { maxAttempts: 2 } } });
  const send = () => h.inbox.routes.passthrough_forward(forward('garbage', 'bad-text', { bufferId: 'gb-1' }));
  send();
  await h.sink.waitFor(
    (l) => l.msg === 'transient failure, frame left unacked for redelivery' && l.attempts === 1,
  );
  t.deepEqual(h.acks, []);
  send();
  await until(() => h.acks.length === 1);
  t.deepEqual(h.acks, [{ bufferId: 'gb-1', committedBefore: true }]);
  const [letter] = h.inbox.stats().dead_letters;
  t.is(letter?.code, 'CORE_ERR_PLUGIN_QUARANTINED');
  t.regex(letter?.message ?? '', /last: CORE_ERR_PLUGIN_BAD_RESULT: .*events\.0\.event\.text: /);
  t.is(h.inbox.stats().dead, 1, 'dead-lettered once, as quarantined — never as a rejection');
  t.is(rows(h).length, 0);
});

test('the attempt count survives a restart', async (t) => {
  const h = await startInbox(t, faults(), { start: false, config: { inbox: { maxAttempts: 2 } } });
  h.inbox.routes.inbound(inbound({ text: 'fault:hang', bufferId: 'tr-2' }));
  await h.sink.waitFor((l) => l.msg === 'transient failure, frame left unacked for redelivery');
  const again = await h.reopen({ start: false, config: { inbox: { maxAttempts: 2 } } });
  again.inbox.routes.inbound(inbound({ text: 'fault:hang', bufferId: 'tr-2' }));
  await until(() => again.acks.length === 1);
  t.is(again.inbox.stats().dead_letters[0]?.code, 'CORE_ERR_PLUGIN_QUARANTINED');
});

test('a live frame that fails transiently is kept as a dead letter, not acked, not lost', async (t) => {
  const h = await startInbox(t, faults(), { start: false });
  h.inbox.routes.inbound(inbound({ text: 'fault:throw' }));
  await until(() => h.inbox.stats().dead === 1);
  t.deepEqual(h.acks, []);
  // a very busy machine may hit the task timeout before the hook throws: both are transient
  t.regex(h.inbox.stats().dead_letters[0]?.code ?? '', /^CORE_ERR_PLUGIN_(THREW|TIMEOUT)$/);
});
