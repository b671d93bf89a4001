/**
 * Dead letters end to end: a frame the twilio plugin rejects is dead-lettered and acked, listed by
 * `GET /v1/dead-letters` and `relay-sidecar dead-letters list`, shown with its secret-free payload,
 * and replayed through the pipeline (where it is rejected again into the same dead letter, as the
 * input has not changed).
 */
import test from 'ava';
import { runDeadLetters } from '../../sidecar/cli/dead-letters-command.js';
import { testIo } from '../sidecar/cli/cli-harness.js';
import { ackOf, forwardOf } from './e2e-frames.js';
import { secretOf, startConnector, startInProcess, until, WAIT } from './e2e-harness.js';

test('a rejected forward is listed, shown and replayed through the API and the CLI', async (t) => {
  const secret = secretOf('relay');
  const connector = await startConnector(t, secret);
  const sc = await startInProcess(t, { connector, secret });
  // JSON is not a Twilio webhook: the plugin rejects it (final), so it is acked and dead-lettered
  const bufferId = connector.sendBuffered({
    type: 'passthrough_forward',
    forward: forwardOf('twilio', { not: 'a form', token: 'tok-should-not-be-stored' }),
  });
  await connector.waitFor(ackOf(bufferId), WAIT);

  const listed = (await (await sc.api('/v1/dead-letters')).json()) as {
    dead_letters: { id: string; code: string }[];
  };
  t.is(listed.dead_letters.length, 1);
  const [letter] = listed.dead_letters;
  t.is(letter?.code, 'CORE_ERR_PLUGIN_REJECTED');

  const address = sc.sidecar.api.address();
  if (address?.kind !== 'tcp') throw new Error('expected a TCP API');
  const env = { SIDECAR_LISTEN: `${address.host}:${address.port}`, SIDECAR_API_TOKEN: sc.token };

  const list = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'list' }, list), 0);
  t.true(list.out.includes(letter!.id));
  t.true(list.out.includes('CORE_ERR_PLUGIN_REJECTED'));

  const show = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'show', id: letter!.id }, show), 0);
  t.is((JSON.parse(show.out) as { id: string }).id, letter!.id);
  t.false(show.out.includes('tok-should-not-be-stored'));

  const replay = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'replay', id: letter!.id }, replay), 0);
  // the replayed frame runs through the plugins again and is rejected again: it goes back to the
  // same dead letter (same id), still listed once
  await until(
    () => sc.sink.withMsg('frame dead-lettered').filter((l) => l.deadLetterId === letter!.id).length === 2,
  );
  const after = (await (await sc.api('/v1/dead-letters')).json()) as { dead_letters: { id: string }[] };
  t.deepEqual(
    after.dead_letters.map((d) => d.id),
    [letter!.id],
  );

  const unknown = testIo(t, env);
  t.not(await runDeadLetters({ kind: 'replay', id: 'no-such-letter' }, unknown), 0);
  t.regex(unknown.err, /unknown_dead_letter/);

  const wrongToken = testIo(t, { ...env, SIDECAR_API_TOKEN: secretOf('wrong') });
  t.is(await runDeadLetters({ kind: 'list' }, wrongToken), 4);
});
