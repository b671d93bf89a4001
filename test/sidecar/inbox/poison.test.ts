/**
 * Poison and transient frames on the real pool: a final verdict dead-letters and acks (nothing
 * lost, nothing wedges); a crash or timeout leaves the frame un-acked until maxAttempts, then
 * quarantines it. Dead letters hold no secret and can be replayed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PassthroughForwardFrameSchema } from '../../../core/protocol/frames.js';
import { DeadLetters } from '../../../sidecar/inbox/dead-letters.js';
import { REDACTED_VALUE } from '../../../sidecar/inbox/redact-text.js';
import type { Json } from '../../helpers/loopback-agent.js';
import { repoRoot } from '../../helpers/repo-root.js';
import {
  fixturePlugin,
  forward,
  inbound,
  rows,
  sharedHost,
  startInbox,
  until,
  wrapInbound,
} from './inbox-harness.js';

// echo, and the built-in discord converter (passthrough only: the echo tests see no difference)
const echo = sharedHost([
  fixturePlugin('echo'),
  {
    name: 'discord-interaction',
    module: join(repoRoot(), 'dist', 'plugins', 'discord-interaction', 'index.js'),
  },
]);
const faults = sharedHost([
  fixturePlugin('echo'),
  fixturePlugin('fault-throws'),
  // a short budget of its own: the hang is cut quickly while other plugins keep the default
  { ...fixturePlugin('fault-hangs'), timeoutMs: 200 },
  fixturePlugin('fault-garbage'),
]);

test('a rejected forward is dead-lettered and acked; its secrets are not stored anywhere', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  const secret = 'SECRET-interaction-token-7f3a';
  h.inbox.routes.passthrough_forward(
    forward(
      'echo',
      { token: secret, not_text: 1 },
      {
        bufferId: 'pz-1',
        headers: [
          ['authorization', `Bearer ${secret}`],
          ['content-type', 'application/json'],
        ],
      },
    ),
  );
  await until(() => h.acks.length === 1);
  t.deepEqual(h.acks, [{ bufferId: 'pz-1', committedBefore: true }]);
  const stats = h.inbox.stats();
  t.is(stats.dead, 1);
  t.is(stats.dead_letters[0]?.kind, 'frame');
  t.is(stats.dead_letters[0]?.code, 'CORE_ERR_PLUGIN_REJECTED');
  const letter = h.inbox.deadLetter(stats.dead_letters[0]!.id) as { payload: { frame: Json } };
  t.is(letter.payload.frame.bufferId, 'pz-1');
  t.deepEqual(letter.payload.frame.forward.headers, [['content-type', 'application/json']]);
  const body = JSON.parse(Buffer.from(letter.payload.frame.forward.bodyB64, 'base64').toString('utf8'));
  t.deepEqual(body, { not_text: 1 });
  // the same frame redelivered is a duplicate: acked, not dead-lettered twice
  h.inbox.routes.passthrough_forward(forward('echo', { token: secret, not_text: 1 }, { bufferId: 'pz-1' }));
  await until(() => h.acks.length === 2);
  t.is(h.inbox.stats().dead, 1);
  const files = readdirSync(h.dataDir).filter((f) => f.startsWith('sidecar.db'));
  t.true(files.length > 0);
  for (const f of files) t.false(readFileSync(join(h.dataDir, f)).toString('latin1').includes(secret), f);
  t.false(h.sink.text().includes(secret));
});

test('a discord body the plugin cannot use (cut off, or BOM and unknown type) is dead-lettered without its token', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  const secret = 'aW50ZXJhY3Rpb246OTk5OmxlYWtlZC10b2tlbg';
  const interaction = `{"type":2,"id":"1","channel_id":"c","token":"${secret}","data":{"name":"deploy"}}`;
  const bodies: Record<string, Buffer> = {
    'cut-off': Buffer.from(interaction.slice(0, interaction.indexOf(secret) + 12)),
    bom: Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(interaction.replace('"type":2', '"type":99')),
    ]),
  };
  for (const [bufferId, body] of Object.entries(bodies)) {
    h.inbox.routes.passthrough_forward(
      PassthroughForwardFrameSchema.parse({
        type: 'passthrough_forward',
        bufferId,
        forward: {
          platform: 'discord',
          botId: 'B1',
          method: 'POST',
          path: '/i',
          headers: [],
          bodyB64: body.toString('base64'),
        },
      }),
    );
  }
  await until(() => h.acks.length === 2);
  const letters = h.inbox.stats().dead_letters;
  t.deepEqual(
    letters.map((l) => l.code),
    ['CORE_ERR_PLUGIN_REJECTED', 'CORE_ERR_PLUGIN_REJECTED'],
  );
  const kept = new Map(
    letters.map((l) => {
      const letter = h.inbox.deadLetter(l.id) as { payload: { frame: Json } };
      return [
        letter.payload.frame.bufferId,
        Buffer.from(letter.payload.frame.forward.bodyB64, 'base64').toString(),
      ];
    }),
  );
  // forensic value kept: the cut-off body as it was up to the token, the BOM body as the JSON it is
  t.is(kept.get('cut-off'), `{"type":2,"id":"1","channel_id":"c","token":${REDACTED_VALUE}`);
  t.like(JSON.parse(kept.get('bom') ?? '{}'), { type: 99, id: '1', data: { name: 'deploy' } });
  const files = readdirSync(h.dataDir).filter((f) => f.startsWith('sidecar.db'));
  for (const f of files) t.false(readFileSync(join(h.dataDir, f)).toString('latin1').includes(secret), f);
  t.false(h.sink.text().includes(secret));
});

test('a forward for a platform no plugin converts is dead-lettered and acked', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  h.inbox.routes.passthrough_forward(forward('nowhere', { text: 'x' }, { bufferId: 'pz-2' }));
  await until(() => h.acks.length === 1);
  t.is(h.inbox.stats().dead_letters[0]?.code, 'CORE_ERR_PLUGIN_PLATFORM_DISABLED');
  t.is(rows(h).length, 0);
});

test('a benign drop (normal traffic, no event) is acked and counted but not dead-lettered', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  h.inbox.routes.passthrough_forward(forward('echo', { text: 'heartbeat' }, { bufferId: 'hb-1' }));
  await until(() => h.acks.length === 1);
  t.deepEqual(h.acks, [{ bufferId: 'hb-1', committedBefore: true }]);
  t.is(h.inbox.stats().dead, 0);
  t.is(rows(h).length, 0);
  // a redelivery of the same buffered frame is recognised and acked again, still nothing stored
  h.inbox.routes.passthrough_forward(forward('echo', { text: 'heartbeat' }, { bufferId: 'hb-1' }));
  await until(() => h.acks.length === 2);
  t.is(h.inbox.stats().dead, 0);
});

test('a schema-failed frame reported by the relay client is dead-lettered and acked', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  h.inbox.routes.poison({
    bufferId: 'pz-3',
    code: 'CORE_ERR_FRAME_SCHEMA',
    reason: 'event.source: required',
    type: 'inbound',
  });
  await until(() => h.acks.length === 1);
  const [letter] = h.inbox.stats().dead_letters;
  t.is(letter?.code, 'CORE_ERR_FRAME_SCHEMA');
  // nothing to re-run: the relay client does not keep the bad frame
  t.is(h.inbox.replay(letter!.id), 'not_replayable');
  t.is(h.sink.withCode('CORE_ERR_INBOX_REPLAY_FAILED').length, 1);
});

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

/**
 * An inbox (not started, quarantine at the first failure) whose inbound hooks fail with `code`
 * until `fix()` is called.
 */
async function brokenUntilFixed(t: ExecutionContext, code: string) {
  let broken = true;
  const h = await startInbox(t, echo(), {
    start: false,
    config: { inbox: { maxAttempts: 1 } },
    wrap: wrapInbound(async (input, real) =>
      broken ? { kind: 'failed', plugin: 'echo', error: { code, message: code } } : real.runInbound(input),
    ),
  });
  return {
    h,
    fix: () => {
      broken = false;
    },
  };
}

test('a quarantined frame replays through the plugins once they work, and is delivered', async (t) => {
  const { h, fix } = await brokenUntilFixed(t, 'CORE_ERR_PLUGIN_TIMEOUT');
  h.inbox.routes.inbound(inbound({ text: 'later', bufferId: 'rp-1' }));
  await until(() => h.acks.length === 1);
  const id = h.inbox.stats().dead_letters[0]!.id;
  t.is(h.inbox.replay('dl_nope'), 'unknown');
  fix();
  t.is(h.inbox.replay(id), 'replayed');
  await until(() => rows(h).length === 1);
  await until(() => h.inbox.stats().dead === 0);
  t.is(rows(h)[0]?.envelope.event.text, 'later');
  t.is(rows(h)[0]?.envelope.origin.buffer_id, 'rp-1');
  t.is(h.acks.length, 1, 'a replay is not acked again');
});

test('a replay requested from another process (the CLI) is picked up by the running inbox', async (t) => {
  const { h, fix } = await brokenUntilFixed(t, 'CORE_ERR_PLUGIN_THREW');
  h.inbox.routes.inbound(inbound({ text: 'cli', bufferId: 'rp-2' }));
  await until(() => h.inbox.stats().dead === 1);
  fix();
  // a second connection, as the CLI would open it
  const { openDatabase, databasePath } = await import('../../../core/store/database.js');
  const db = openDatabase(databasePath(h.dataDir));
  t.teardown(() => db.close());
  const cli = new DeadLetters(db);
  t.true(cli.requestReplay(h.inbox.stats().dead_letters[0]!.id));
  h.inbox.start(); // runs one upkeep pass at once
  await until(() => rows(h).length === 1);
  await until(() => h.inbox.stats().dead === 0);
});

test('a dead frame replayed again while its first replay still runs is not run (or delivered) twice', async (t) => {
  let broken = true;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const h = await startInbox(t, echo(), {
    start: false,
    config: { inbox: { maxAttempts: 1 } },
    wrap: wrapInbound(async (input, real) => {
      if (broken)
        return { kind: 'failed', plugin: 'echo', error: { code: 'CORE_ERR_PLUGIN_THREW', message: 'x' } };
      await gate;
      return real.runInbound(input);
    }),
  });
  h.inbox.routes.inbound(inbound({ text: 'twice?', bufferId: 'rp-3' }));
  await until(() => h.inbox.stats().dead === 1);
  const id = h.inbox.stats().dead_letters[0]!.id;
  broken = false;
  t.is(h.inbox.replay(id), 'replayed');
  // the first replay is held in the plugins; the agent (or the CLI) asks again
  t.is(h.inbox.replay(id), 'replayed');
  release();
  await until(() => h.inbox.stats().dead === 0);
  // anything a second run would commit comes in the same turns as the first
  await h.inbox.quiesce(1_000);
  t.deepEqual(
    rows(h).map((r) => r.envelope.event.text),
    ['twice?'],
  );
});
