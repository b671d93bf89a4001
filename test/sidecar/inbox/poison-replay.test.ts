import test, { type ExecutionContext } from 'ava';
import { DeadLetters } from '../../../sidecar/inbox/dead-letters.js';
import { inbound, rows, sharedHost, startInbox, until, wrapInbound } from './inbox-harness.js';
import { ECHO_AND_DISCORD } from './poison-harness.js';

const echo = sharedHost(ECHO_AND_DISCORD);

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
