/**
 * Dead letters end to end: a frame the twilio plugin rejects is dead-lettered and acked, listed by
 * `GET /v1/dead-letters` and `relay-sidecar dead-letters list`, shown with its secret-free payload,
 * and replayed through the pipeline (where it is rejected again into the same dead letter, as the
 * input has not changed).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { runDeadLetters } from '../../sidecar/cli/dead-letters-command.js';
import { main } from '../../sidecar/cli/main.js';
import { testIo } from '../sidecar/cli/cli-harness.js';
import { ackOf, forwardOf } from './e2e-frames.js';
import { secretOf, startConnector, startInProcess, until, WAIT } from './e2e-harness.js';

/** A sidecar whose store holds one dead letter: a forward the twilio plugin rejects. */
async function sidecarWithDeadLetter(t: ExecutionContext) {
  const secret = secretOf('relay');
  const connector = await startConnector(t, secret);
  const sc = await startInProcess(t, { connector, secret });
  // JSON is not a Twilio webhook: the plugin rejects it (final), so it is acked and dead-lettered
  const bufferId = connector.sendBuffered({
    type: 'passthrough_forward',
    forward: forwardOf('twilio', { not: 'a form', token: 'tok-should-not-be-stored' }),
  });
  await connector.waitFor(ackOf(bufferId), WAIT);
  return { sc, connector, secret };
}

test('a rejected forward is listed, shown and replayed through the API and the CLI', async (t) => {
  const { sc } = await sidecarWithDeadLetter(t);

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

  // its own exit code, so a script can tell "no such letter" from a failure (was 1)
  const unknown = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'replay', id: 'no-such-letter' }, unknown), 6);
  t.regex(unknown.err, /unknown_dead_letter/);
  const unknownShow = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'show', id: 'no-such-letter' }, unknownShow), 6);

  const wrongToken = testIo(t, { ...env, SIDECAR_API_TOKEN: secretOf('wrong') });
  t.is(await runDeadLetters({ kind: 'list' }, wrongToken), 4);

  // no token anywhere (configured for the sidecar, so its data dir holds no api-token file):
  // the running sidecar refuses, and the CLI says where a token comes from
  t.false(existsSync(join(sc.dataDir, 'api-token')));
  const noToken = testIo(t, { SIDECAR_LISTEN: env.SIDECAR_LISTEN, SIDECAR_DATA_DIR: sc.dataDir });
  t.is(await runDeadLetters({ kind: 'list' }, noToken), 4);
  // one line: the 401 and what to do about it
  t.regex(
    noToken.err,
    /^dead-letters: HTTP 401 [^\n]*: no API token: set SIDECAR_API_TOKEN .* or SIDECAR_DATA_DIR[^\n]*\n$/,
  );
});

test('with the sidecar stopped, the CLI lists and shows from the store and queues a replay for the next start', async (t) => {
  const { sc: first, connector, secret } = await sidecarWithDeadLetter(t);
  const address = first.sidecar.api.address();
  if (address?.kind !== 'tcp') throw new Error('expected a TCP API');
  await first.sidecar.stop();

  // nothing listens on the old address any more: the CLI reads the store in the data dir
  const env = {
    SIDECAR_LISTEN: `${address.host}:${address.port}`,
    SIDECAR_API_TOKEN: first.token,
    SIDECAR_DATA_DIR: first.dataDir,
  };
  const list = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'list' }, list), 0);
  t.regex(list.err, /not running/);
  const id = /^(\S+)\s/.exec(list.out)?.[1] ?? '';
  t.true(list.out.includes('CORE_ERR_PLUGIN_REJECTED'));

  const show = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'show', id }, show), 0);
  t.is((JSON.parse(show.out) as { id: string }).id, id);
  t.false(show.out.includes('tok-should-not-be-stored'));

  // reading the store needs no API token (was: "no API token", exit 5, the store never read)
  const { SIDECAR_API_TOKEN: _token, ...tokenless } = env;
  const showTokenless = testIo(t, tokenless);
  t.is(await runDeadLetters({ kind: 'show', id }, showTokenless), 0, showTokenless.err);
  t.is((JSON.parse(showTokenless.out) as { id: string }).id, id);

  const unknown = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'replay', id: 'no-such-letter' }, unknown), 6);
  t.regex(unknown.err, /unknown_dead_letter/);
  const unknownShow = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'show', id: 'no-such-letter' }, unknownShow), 6);

  const replay = testIo(t, env);
  t.is(await runDeadLetters({ kind: 'replay', id }, replay), 0);
  t.regex(replay.out, /queued .* replayed when the sidecar starts/);

  // the next start runs it through the plugins again (rejected again, into the same dead letter)
  const second = await startInProcess(t, { connector, secret, dataDir: first.dataDir });
  await until(() => second.sink.withMsg('frame dead-lettered').some((l) => l.deadLetterId === id));
  const after = (await (await second.api('/v1/dead-letters')).json()) as { dead_letters: { id: string }[] };
  t.deepEqual(
    after.dead_letters.map((d) => d.id),
    [id],
  );
});

test('with the sidecar stopped and no store, the CLI names both places and exits 2 (a wrong data dir or address)', async (t) => {
  const tokens: Record<string, string>[] = [{ SIDECAR_API_TOKEN: secretOf('api') }, {}];
  for (const token of tokens) {
    const io = testIo(t, {
      SIDECAR_LISTEN: '127.0.0.1:1',
      ...token,
      SIDECAR_DATA_DIR: join(tmpdir(), 'relay-no-such-store', String(process.pid)),
    });
    t.is(await runDeadLetters({ kind: 'list' }, io), 2);
    t.regex(
      io.err,
      /no sidecar answers at 127\.0\.0\.1:1 and .*relay-no-such-store.* holds no store; point SIDECAR_DATA_DIR/,
    );
  }
});

test('dead-letters list refuses a --limit that is not a whole number from 1 to 500, before any request', async (t) => {
  for (const limit of [Number.NaN, 0, -5, 1.5, 501]) {
    const io = testIo(t, { SIDECAR_LISTEN: '127.0.0.1:1', SIDECAR_API_TOKEN: secretOf('api') });
    t.is(await runDeadLetters({ kind: 'list', limit }, io), 2, String(limit));
    t.regex(io.err, /--limit must be a whole number from 1 to 500/);
  }
});

test('a rejected forward whose body is a run of backslashes is dead-lettered and the sidecar goes on', async (t) => {
  const secret = secretOf('relay');
  const connector = await startConnector(t, secret);
  const sc = await startInProcess(t, { connector, secret });
  // a JSON string of 2^19 backslashes, no interaction: the discord plugin rejects it, and the
  // dead letter's credential check used to spend hours of the main thread on it (the ack never came)
  const bufferId = connector.sendBuffered({
    type: 'passthrough_forward',
    forward: forwardOf('discord', '\\'.repeat(1 << 18)),
  });
  await connector.waitFor(ackOf(bufferId), WAIT);
  const listed = (await (await sc.api('/v1/dead-letters')).json()) as { dead_letters: { code: string }[] };
  t.deepEqual(
    listed.dead_letters.map((d) => d.code),
    ['CORE_ERR_PLUGIN_REJECTED'],
  );
});

test('dead-letters takes the config file and env file of run (-c, --env-path), online and offline', async (t) => {
  const { sc } = await sidecarWithDeadLetter(t);
  const address = sc.sidecar.api.address();
  if (address?.kind !== 'tcp') throw new Error('expected a TCP API');
  // the settings of a sidecar started with `run -c sidecar.json --env-path .env.relay`: its address
  // and data dir in the config file, its token in the env file (none in the environment)
  const io = testIo(t);
  const file = join(io.cwd, 'sidecar.json');
  writeFileSync(
    file,
    JSON.stringify({ api: { listen: `${address.host}:${address.port}` }, dataDir: sc.dataDir }),
  );
  const envPath = join(io.cwd, '.env.relay');
  writeFileSync(envPath, `SIDECAR_API_TOKEN=${sc.token}\n`, { mode: 0o600 });
  const cli = (...args: string[]) => main(['node', 'relay-sidecar', 'dead-letters', ...args], io);

  // was: "unknown option '-c'", exit 2; only SIDECAR_CONFIG in the environment reached it
  t.is(await cli('list', '-c', file, '--env-path', envPath), 0, io.err);
  const id = /^(\S+)\s/.exec(io.out)?.[1] ?? '';
  t.true(io.out.includes('CORE_ERR_PLUGIN_REJECTED'));
  t.is(await cli('show', id, '--config', file, '--env-path', envPath), 0, io.err);
  t.true(io.out.includes(`"id": "${id}"`));

  // stopped: the data dir of the config file is read, no token needed
  await sc.sidecar.stop();
  io.out = '';
  t.is(await cli('list', '-c', file), 0, io.err);
  t.true(io.out.startsWith(`${id} `));
  t.regex(io.err, /not running; read from the store in /);
});
