/**
 * Never leak (issue 3/4): across one full run of the CLI process — buffered and live frames,
 * a Discord interaction still carrying its `token` (body and an Authorization header), a
 * malformed forward carrying one (dead-lettered), push deliveries with response actions,
 * `POST /v1/actions`, the status and metrics pages, hostile calls carrying the token (a wrong
 * Basic password, a broken body, a query string, an invalid action), and a SIGTERM drain — none
 * of the relay secret, the API token or the interaction token appears in any log line, the SQLite
 * files (db, wal, shm), any delivery to the agent, any frame the sidecar wrote, or any API answer.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startAgent } from '../helpers/loopback-agent.js';
import { startSidecarProcess } from '../helpers/sidecar-process.js';
import { textOf } from './agent-tools.js';
import {
  ackOf,
  actionOf,
  type Chat,
  discordMessage,
  forwardOf,
  outboundWhere,
  relayEnv,
  secretOf,
  sessionOf,
  slashCommand,
  startConnector,
  tempDir,
  until,
  WAIT,
} from './e2e-harness.js';

const CHAT: Chat = { channel: 'c-secret', user: 'u-secret' };

/** Every file under `dir`, with its bytes as latin1 text (binary-safe substring search). */
function filesOf(dir: string): { name: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesOf(path).map((f) => ({ ...f, name: `${name}/${f.name}` }));
    return [{ name, text: readFileSync(path).toString('latin1') }];
  });
}

test('no secret reaches a log line, the inbox files, the agent, the wire or an API answer', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const interactionToken = secretOf('interaction-token');
  const dataDir = tempDir(t);
  const configDir = tempDir(t);
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  agent.setScript((d) =>
    d.envelope?.origin?.plugin === 'discord-interaction'
      ? { actions: [{ op: 'follow_up', session_key: d.envelope?.session_key, content: 'done' }] }
      : { actions: [{ op: 'send', chat_id: CHAT.channel, content: `re: ${textOf(d)}` }] },
  );
  const proc = await startSidecarProcess(t, {
    env: { ...relayEnv(connector, secret, { url: agent.url, token, dataDir }), LOG_LEVEL: 'trace' },
    config: { relay: { backoffBaseMs: 20, backoffMaxMs: 100 }, agent: { retryBaseMs: 20, retryMaxMs: 100 } },
    configDir,
  });

  // an interaction the connector failed to sanitise: token in the body and in a header
  const leaky = slashCommand(CHAT, '1700000000000000001', 'model', 'gpt-x', interactionToken) as {
    forward: Record<string, unknown>;
  };
  leaky.forward.headers = [
    ['content-type', 'application/json'],
    ['authorization', `Bot ${interactionToken}`],
  ];
  const bodies = [String(leaky.forward.bodyB64)];
  const interaction = connector.sendBuffered(leaky);
  // malformed (not an object) yet carrying the token: dead-lettered, stored without it
  const malformedForward = forwardOf('discord', `["token", "${interactionToken}"]`);
  bodies.push(String(malformedForward.bodyB64));
  const malformed = connector.sendBuffered({ type: 'passthrough_forward', forward: malformedForward });
  connector.send(discordMessage(CHAT, 'hello', 'm-secret-1'));
  await connector.waitFor(ackOf(interaction), WAIT);
  await connector.waitFor(ackOf(malformed), WAIT);
  const followUp = await connector.waitFor(
    outboundWhere((a) => a.op === 'follow_up'),
    WAIT,
  );
  await connector.waitFor(
    outboundWhere((a) => a.content === 're: hello'),
    WAIT,
  );
  t.like(actionOf(followUp), {
    session_key: sessionOf(CHAT),
    kind: 'discord.interaction_token',
  });

  const answers: string[] = [];
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await proc.api(path, { ...init, token });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, text };
  };
  t.is(
    (
      await call('/v1/actions', {
        method: 'POST',
        body: JSON.stringify({ op: 'send', chat_id: CHAT.channel, content: 'x' }),
      })
    ).status,
    200,
  );
  // a follow_up with a credential is refused: the refusal must not echo it
  const refused = await call('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({
      op: 'follow_up',
      session_key: sessionOf(CHAT),
      content: 'y',
      metadata: { token: interactionToken },
    }),
  });
  t.is(refused.status, 400);
  const status = await call('/v1/status');
  t.is(JSON.parse(status.text).inbox.dead, 1);
  await call('/metrics');
  await call('/');
  // wrong bearer: 401, and the attempt is logged without the header
  t.is((await proc.api('/v1/status', { token: `${token}x` })).status, 401);
  // hostile calls carrying a credential: a wrong Basic password on the status page, a body V8
  // would quote around its error, a credential in a query string and in an action's fields
  const tokenHex = interactionToken.slice(interactionToken.lastIndexOf('-') + 1);
  const basic = `Basic ${Buffer.from(`u:${interactionToken}`).toString('base64')}`;
  t.is((await call('/', { headers: { authorization: basic } })).status, 401);
  const refusals = [
    // V8 quotes the ten characters after the error: the token's random part
    await call('/v1/actions', { method: 'POST', body: `{"op":"send","token":x${tokenHex}}` }),
    await call(`/v1/nowhere?token=${interactionToken}`),
    await call('/v1/actions', {
      method: 'POST',
      body: JSON.stringify({ op: 'send', chat_id: 1, content: 2, token: interactionToken }),
    }),
  ];
  t.deepEqual(
    refusals.map((r) => r.status),
    [400, 404, 400],
  );
  await until(
    async () => JSON.parse((await call('/v1/status')).text).inbox.pending === 0,
    WAIT,
    'inbox drained',
  );

  // the inbox files while running (the WAL is still there), then after a graceful stop
  const running = filesOf(dataDir);
  t.true(
    running.some((f) => f.name === 'sidecar.db-wal'),
    'the WAL is inspected while it exists',
  );
  t.deepEqual(await proc.kill('SIGTERM'), { code: 0, signal: null });
  const stopped = filesOf(dataDir);

  const haystacks: [string, string][] = [
    ['stdout+stderr', proc.text()],
    ...running.map((f): [string, string] => [`running ${f.name}`, f.text]),
    ...stopped.map((f): [string, string] => [`stopped ${f.name}`, f.text]),
    ...agent.deliveries.map((d): [string, string] => [
      `delivery ${d.index}`,
      `${JSON.stringify(d.headers)}\n${d.raw}`,
    ]),
    ...connector.frames
      .filter((f) => f.dir === 'in')
      .map((f): [string, string] => ['frame from the sidecar', JSON.stringify(f.frame)]),
    ...answers.map((a, i): [string, string] => [`api answer ${i}`, a]),
  ];
  // the paths that handle the secrets did log (so the search below searched something)
  for (const msg of [
    'discord interaction token removed',
    'frame dead-lettered',
    'api call unauthorized',
    'follow_up refused',
  ]) {
    t.true(proc.withMsg(msg).length > 0, msg);
  }
  t.true(agent.deliveries.length >= 2);
  const needles: [string, string][] = [
    ['relay secret', secret],
    ['api token', token],
    ['interaction token', interactionToken],
    ['interaction token fragment', tokenHex.slice(0, 8)],
    ...bodies.map((b, i): [string, string] => [`raw forward body ${i} (base64)`, b]),
  ];
  const leaks = haystacks.flatMap(([where, hay]) =>
    needles.filter(([, needle]) => hay.includes(needle)).map(([what]) => `${what} in ${where}`),
  );
  t.deepEqual(leaks, []);
});
