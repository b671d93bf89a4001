/**
 * A dead-lettered forward whose body is a hostile form (8 MiB of `a=b&` that fails a strict form
 * check at its very end) on a real sidecar: the dead letter's redaction once overflowed V8's
 * regexp stack inside the commit, so the commit rolled back, the frame was never acked, each
 * redelivery failed the same way (its dedupe key rolled back with it), and a live copy was lost.
 */
import test from 'ava';
import { ackOf, forwardOf, secretOf, startConnector, startInProcess, until, WAIT } from './e2e-harness.js';

/** `a=b&` to 8 MiB, then a newline: no strict form, no JSON, no credential. */
const HOSTILE = Buffer.from(`${'a=b&'.repeat(2 * 1024 * 1024)}\n`);

/** A twilio forward of {@link HOSTILE}; text/plain, so the plugin rejects it at once. */
function hostileForward(): Record<string, unknown> {
  const forward = forwardOf('twilio', 'x');
  return {
    type: 'passthrough_forward',
    forward: { ...forward, headers: [['content-type', 'text/plain']], bodyB64: HOSTILE.toString('base64') },
  };
}

test('a rejected forward with an 8 MiB hostile form body is dead-lettered and acked, and the sidecar goes on', async (t) => {
  const secret = secretOf('relay');
  const connector = await startConnector(t, secret);
  const sc = await startInProcess(t, { connector, secret });
  const bufferId = connector.sendBuffered(hostileForward());
  const failed = () => sc.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length > 0;
  const acked = () => connector.frames.some(ackOf(bufferId));
  await until(() => acked() || failed(), WAIT, 'the ack or a failed commit');
  t.deepEqual(
    sc.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').map((l) => l.error),
    [],
    'the dead letter was committed',
  );
  t.true(acked());
  const listed = (await (await sc.api('/v1/dead-letters')).json()) as {
    dead_letters: { id: string; code: string }[];
  };
  t.deepEqual(
    listed.dead_letters.map((d) => d.code),
    ['CORE_ERR_PLUGIN_REJECTED'],
  );
  const letter = (await (await sc.api(`/v1/dead-letters/${listed.dead_letters[0]?.id}`)).json()) as {
    payload: { frame: { forward: { bodyB64: string } } };
  };
  // no credential in it: kept byte for byte
  t.true(Buffer.from(letter.payload.frame.forward.bodyB64, 'base64').equals(HOSTILE));

  // the same body live (no redelivery would bring it back) is kept too, and the socket's reading
  // goes on: a buffered frame after it is acked on the same connection
  connector.send(hostileForward());
  await until(
    async () =>
      ((await (await sc.api('/v1/dead-letters')).json()) as { dead_letters: unknown[] }).dead_letters
        .length === 2,
    WAIT,
    'the live frame dead-lettered',
  );
  const after = connector.sendBuffered({
    type: 'passthrough_forward',
    forward: forwardOf('twilio', { not: 'a form' }),
  });
  await connector.waitFor(ackOf(after), WAIT);
  t.is(connector.totalConnections(), 1);
  t.is(sc.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length, 0);
});
