/**
 * A key of a GATEWAY_RELAY_BOT_IDS entry other than botId, as the operator sees it from the real
 * CLI in a child process: `run` warns on stderr and starts (the identity keeps its botId), `doctor`
 * shows an `env` warning; both name the entry, the key and the key meant, never a bot id.
 */
import test from 'ava';
import { runChild, startRelay } from '../lifecycle/run-fixture.js';
import { spawnCli } from '../lifecycle/sidecar-child.js';

const BOT_IDS = JSON.stringify({ discord: { botId: '987654321098765432', bot_id: '123123123123' } });

test('run warns of a key a GATEWAY_RELAY_BOT_IDS entry does not take, and starts with its botId', async (t) => {
  const relay = await startRelay(t);
  const run = await runChild(t, relay, { env: { GATEWAY_RELAY_BOT_IDS: BOT_IDS } });
  const err = run.child.stderr();
  // was: the key was dropped without a word
  t.regex(
    err,
    /^run: warning: GATEWAY_RELAY_BOT_IDS entry "discord" has the key "bot_id", which is not read: did you mean "botId"\? \(an entry takes only botId\)$/m,
  );
  t.regex(err, /^relay-sidecar started$/m, 'the start went ahead');
  const hello = relay.connector.frames.find((f) => f.dir === 'in' && f.frame.type === 'hello');
  t.like(hello?.frame, { platform: 'discord', botId: '987654321098765432' });
  t.false(err.includes('123123123123'));

  const doctor = spawnCli(t, ['doctor', '--timeout-ms', '5000'], run.env);
  await doctor.waitExit();
  t.regex(
    doctor.stdout(),
    /^! env — GATEWAY_RELAY_BOT_IDS entry "discord" has the key "bot_id", which is not read: did you mean "botId"\? .*Fix: remove the key "bot_id" from the entry "discord"$/m,
  );
  t.false(`${doctor.stdout()}${doctor.stderr()}`.includes('123123123123'));
});
