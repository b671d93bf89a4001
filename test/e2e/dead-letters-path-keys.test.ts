/**
 * A forward whose path holds its webhook's key in a segment (Discord's `/webhooks/<id>/<token>`,
 * a provider's `/hooks/<secret>`) and that is dead-lettered, on a real sidecar (real connector,
 * pool, SQLite file, HTTP API): read back through `GET /v1/dead-letters` (the agent), the built
 * CLI's `dead-letters show` (running and stopped) and the store's files, and replayed. The
 * query was redacted and the path stored as it came, so the key reached all of them.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pluginModule } from '../helpers/plugin-module.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runBuiltCli } from '../sidecar/cli/cli-child.js';
import {
  ackOf,
  forwardOf,
  manifestWithDiscord,
  secretOf,
  startConnector,
  startInProcess,
  tempDir,
  until,
  WAIT,
} from './e2e-harness.js';

/** A key of a webhook path: base64url, with upper case, lower case and digits for sure. */
const keyOf = () => `Xy9${randomBytes(36).toString('base64url')}`;

/** A plugin converting platform `hooks` that refuses every hook, quoting its key decoded (no slash). */
const HOOKS = `passthrough: { platforms: ['hooks'], convert(f, ctx) {
  const hook = decodeURIComponent(f.path.slice(f.path.lastIndexOf('/') + 1));
  ctx.log.warn('hook unknown', { hook });
  return { events: [], reason: 'unknown hook ' + hook };
} }`;

interface Letter {
  id: string;
  message: string;
  payload: { frame: { forward: { platform: string; path: string; pathRedacted?: string } } };
}

test('a key in a dead-lettered forward’s path segment reaches neither the agent, the CLI, the store nor the log', async (t) => {
  const discordToken = keyOf();
  const twilioKey = keyOf();
  // a base64 key, percent-encoded as its URL carries it
  const b64Key = `Ab1+${randomBytes(30).toString('base64')}/x=`;
  const secret = secretOf('relay');
  const connector = await startConnector(t, secret);
  const twilio = {
    name: 'twilio',
    module: join(repoRoot(), 'dist', 'plugins', 'twilio', 'index.js'),
    enabled: true,
  };
  const hooks = { name: 'hooks', module: pluginModule(t, 'hooks', '', HOOKS), enabled: true };
  const sc = await startInProcess(t, {
    connector,
    secret,
    manifestPath: manifestWithDiscord(t, [twilio, hooks]),
  });

  // each plugin rejects its forward (final): acked and dead-lettered
  const forwards = [
    forwardOf('discord', { not: 'an interaction' }, { path: `/webhooks/1184393483943/${discordToken}` }),
    forwardOf('twilio', { not: 'a form' }, { path: `/twilio/${twilioKey};v=2/sms?token=${twilioKey}` }),
    forwardOf('hooks', {}, { path: `/hooks/${encodeURIComponent(b64Key)}` }),
  ];
  for (const forward of forwards)
    await connector.waitFor(ackOf(connector.sendBuffered({ type: 'passthrough_forward', forward })), WAIT);

  const answers: string[] = [];
  const api = async (path: string, init?: RequestInit) => {
    const text = await (await sc.api(path, init)).text();
    answers.push(text);
    return JSON.parse(text) as unknown;
  };
  const listed = (await api('/v1/dead-letters')) as { dead_letters: { id: string }[] };
  t.is(listed.dead_letters.length, 3);
  const letters = await Promise.all(
    listed.dead_letters.map(async (d) => (await api(`/v1/dead-letters/${d.id}`)) as Letter),
  );
  const byPlatform = new Map(letters.map((l) => [l.payload.frame.forward.platform, l]));
  t.deepEqual(
    ['discord', 'twilio', 'hooks'].map((p) => byPlatform.get(p)?.payload.frame.forward.path),
    [
      '/webhooks/1184393483943/[redacted]',
      '/twilio/[redacted];v=2/sms?token=%5Bredacted%5D',
      '/hooks/[redacted]',
    ],
  );
  for (const letter of letters) t.regex(letter.payload.frame.forward.pathRedacted ?? '', /replay/);
  const hooksLetter = byPlatform.get('hooks') as Letter;
  t.is(hooksLetter.message, 'hooks: unknown hook [redacted]');
  await api('/v1/status');

  // the built CLI, against the running sidecar
  const address = sc.sidecar.api.address();
  if (address?.kind !== 'tcp') throw new Error('expected a TCP API');
  const cwd = tempDir(t);
  const online = {
    PATH: process.env.PATH,
    SIDECAR_LISTEN: `${address.host}:${address.port}`,
    SIDECAR_API_TOKEN: sc.token,
  };
  const outputs: string[] = [];
  const cli = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
    const run = await runBuiltCli(['dead-letters', ...args], cwd, env);
    t.is(run.code, 0, run.err);
    outputs.push(run.out, run.err);
    return run.out;
  };
  t.regex(await cli(online, 'show', hooksLetter.id), /"path": "\/hooks\/\[redacted\]"/);
  await cli(online, 'list');

  // replayed, it runs with the redacted path and is rejected again into the same letter, still marked
  t.deepEqual(await api(`/v1/dead-letters/${hooksLetter.id}/replay`, { method: 'POST' }), {
    replayed: hooksLetter.id,
  });
  await until(
    () =>
      sc.sink.withMsg('frame dead-lettered').filter((l) => l.deadLetterId === hooksLetter.id).length === 2,
    WAIT,
    'the replay dead-lettered again',
  );
  const replayed = (await api(`/v1/dead-letters/${hooksLetter.id}`)) as Letter;
  t.like(replayed.payload.frame.forward, {
    path: '/hooks/[redacted]',
    pathRedacted: hooksLetter.payload.frame.forward.pathRedacted,
  });

  // the store's files as they are while running (the WAL), then the CLI reading them stopped
  const files = () =>
    readdirSync(sc.dataDir).map((name) => readFileSync(join(sc.dataDir, name)).toString('latin1'));
  const running = files();
  await sc.sidecar.stop();
  const offline = {
    PATH: process.env.PATH,
    SIDECAR_LISTEN: online.SIDECAR_LISTEN,
    SIDECAR_DATA_DIR: sc.dataDir,
  };
  t.regex(
    await cli(offline, 'show', byPlatform.get('discord')?.id ?? ''),
    /webhooks\/1184393483943\/\[redacted\]/,
  );

  // the paths that handle the keys did write (so the search below searched something)
  t.is(sc.sink.withMsg('frame dead-lettered').length, 4);
  t.is(sc.sink.withMsg('hook unknown').length, 2);
  const haystacks: [string, string][] = [
    ['log', sc.sink.text()],
    ...answers.map((a, i): [string, string] => [`api answer ${i}`, a]),
    ...outputs.map((o, i): [string, string] => [`cli output ${i}`, o]),
    ...running.map((f, i): [string, string] => [`running file ${i}`, f]),
    ...files().map((f, i): [string, string] => [`stopped file ${i}`, f]),
  ];
  const needles = [discordToken, twilioKey, b64Key, encodeURIComponent(b64Key)].flatMap((k) => [
    k,
    k.slice(0, 12),
  ]);
  const leaks = haystacks.flatMap(([where, hay]) =>
    needles.filter((needle) => hay.includes(needle)).map((needle) => `${needle.slice(0, 6)}… in ${where}`),
  );
  t.deepEqual(leaks, []);
});
