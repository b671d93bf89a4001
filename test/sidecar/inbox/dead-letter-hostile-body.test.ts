/**
 * The dead-letter commit of a forward whose body is a hostile form, on the real pool and a real
 * SQLite file: 8 MiB of `a=b&` that fails a strict form check at its very end overflowed V8's
 * regexp stack inside the commit transaction. The commit rolled back with the dedupe key and the
 * attempt count: a rejected buffered frame was never acked and failed again at every redelivery,
 * a quarantined one stayed one attempt short of quarantine for good, a live one was lost.
 */
import test from 'ava';
import type { IncomingOf } from '../../../core/protocol/frames.js';
import { fixturePlugin, forward, type InboxHarness, sharedHost, startInbox, until } from './inbox-harness.js';

/** `a=b&` to 8 MiB, then `tail` and a newline: no strict form, no JSON, no credential. */
const hostile = (tail = '') => Buffer.from(`${'a=b&'.repeat(2 * 1024 * 1024)}${tail}\n`);

/** A text/plain forward of `body` (the harness's own, its JSON body replaced). */
function forwardOf(platform: string, body: Buffer, bufferId?: string): IncomingOf<'passthrough_forward'> {
  const frame = forward(
    platform,
    {},
    { ...(bufferId ? { bufferId } : {}), headers: [['content-type', 'text/plain']] },
  );
  return { ...frame, forward: { ...frame.forward, bodyB64: body.toString('base64') } };
}

const host = sharedHost([fixturePlugin('echo'), fixturePlugin('fault-garbage')]);

/** Resolve once `n` frames are acked or a commit failed; the failures' messages. */
async function settled(h: InboxHarness, acks: number): Promise<unknown[]> {
  const failures = () => h.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED');
  await until(() => h.acks.length >= acks || failures().length > 0, 30_000, 'an ack or a failed commit');
  return failures().map((l) => l.error);
}

/** The stored body of the one dead letter whose code is `code`. */
function storedBody(h: InboxHarness, code: string): Buffer {
  const letter = h.inbox.stats().dead_letters.find((l) => l.code === code);
  const full = h.inbox.deadLetter(letter?.id ?? '') as {
    payload: { frame: { forward: { bodyB64: string } } };
  };
  return Buffer.from(full.payload.frame.forward.bodyB64, 'base64');
}

test('a rejected buffered forward with a hostile form body is dead-lettered once and acked', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  const body = hostile();
  h.inbox.routes.passthrough_forward(forwardOf('echo', body, 'hb-1'));
  t.deepEqual(await settled(h, 1), []);
  t.deepEqual(h.acks, [{ bufferId: 'hb-1', committedBefore: true }]);
  t.is(h.inbox.stats().dead, 1);
  // no credential in it: kept byte for byte
  t.true(storedBody(h, 'CORE_ERR_PLUGIN_REJECTED').equals(body));
  // its redelivery is a duplicate, acked again, not dead-lettered twice
  h.inbox.routes.passthrough_forward(forwardOf('echo', body, 'hb-1'));
  t.deepEqual(await settled(h, 2), []);
  t.is(h.inbox.stats().dead, 1);
});

test('a buffered forward with a hostile form body that fails transiently is quarantined and acked', async (t) => {
  const h = await startInbox(t, host(), { start: false, config: { inbox: { maxAttempts: 2 } } });
  // `bad-text`: the fault plugin returns an invalid event, a transient failure
  const send = () => h.inbox.routes.passthrough_forward(forwardOf('garbage', hostile('bad-text'), 'hq-1'));
  send();
  await h.sink.waitFor((l) => l.msg === 'transient failure, frame left unacked for redelivery', 30_000);
  send();
  t.deepEqual(await settled(h, 1), []);
  t.deepEqual(h.acks, [{ bufferId: 'hq-1', committedBefore: true }]);
  t.is(h.inbox.stats().dead_letters[0]?.code, 'CORE_ERR_PLUGIN_QUARANTINED');
});

test('a live rejected forward with a hostile form body is kept as a dead letter, not lost', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.passthrough_forward(forwardOf('echo', hostile()));
  const failures = () => h.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED');
  await until(() => h.inbox.stats().dead === 1 || failures().length > 0, 30_000, 'a dead letter');
  t.deepEqual(
    failures().map((l) => l.error),
    [],
  );
  t.is(h.inbox.stats().dead, 1);
});
