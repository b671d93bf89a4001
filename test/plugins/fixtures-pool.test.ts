/**
 * Every sample of the shared Discord and Twilio fixtures through the real plugin pool: the
 * forward is converted by the built-in plugin in a worker, every event runs the inbound chain
 * (scope-reattacher and follow-up write the real SQLite store), and the result is checked against
 * the sample's `expect` — the secret check covers the event, every log line and the store files.
 */
import test from 'ava';
import { sessionKey } from '../../core/index.js';
import { PassthroughForwardSchema } from '../../core/protocol/payloads.js';
import { loadSharedFixture } from '../helpers/shared-fixtures.js';
import { expectMismatches, type ForwardFixture, type Produced } from './fixture-expect.js';
import { BUILTINS, sharedHost } from './host-harness.js';

const host = sharedHost(BUILTINS, [{ platform: 'discord', botId: '987654321098765432' }]);

for (const file of ['discord-interactions.json', 'twilio-webhooks.json']) {
  const fixture = loadSharedFixture<ForwardFixture>(file);
  for (const sample of fixture.samples) {
    test.serial(`pool ${file}: ${sample.name}`, async (t) => {
      const outcome = await host().host.convertForward(PassthroughForwardSchema.parse(sample.forward));
      const produced: Produced[] = [];
      if (sample.expect === null) {
        // a plugin's "no event" verdict is final (the frame would be acked), never a failure
        t.is(outcome.kind, 'rejected');
      } else {
        if (outcome.kind !== 'events') return t.fail(`unexpected outcome ${JSON.stringify(outcome)}`);
        for (const { event, capabilities } of outcome.events) {
          const key = sessionKey(event.source);
          const inbound = await host().host.runInbound({ event, sessionKey: key, capabilities });
          if (inbound.kind !== 'event') return t.fail(`inbound chain: ${JSON.stringify(inbound)}`);
          produced.push({
            event: inbound.event as Record<string, unknown>,
            capabilities: inbound.capabilities,
          });
        }
      }
      const observed = { logs: host().rawLogs(), store: host().storeBytes() };
      t.deepEqual(expectMismatches(sample.expect, produced, observed), []);
    });
  }
}

test.serial('the token sample was logged as removed, by plugin name and without its value', (t) => {
  const removed = host()
    .lines()
    .filter((l) => l.msg === 'discord interaction token removed');
  t.true(removed.length >= 1);
  t.like(removed[0], { plugin: 'discord-interaction', level: 40, removed: 1 });
  // the store check above is not vacuous: the same files hold what the inbound chain remembered
  t.true(host().storeBytes().includes('1100000000000000001'));
});

test.serial('drops are logged with their reason and the plugin name', (t) => {
  const reasons = host()
    .lines()
    .filter((l) => typeof l.reason === 'string' && typeof l.plugin === 'string')
    .map((l) => `${l.plugin}:${l.reason}`);
  for (const expected of [
    'discord-interaction:ping',
    'discord-interaction:malformed',
    'twilio:status_callback',
    'twilio:malformed',
  ]) {
    t.true(reasons.includes(expected), expected);
  }
});
