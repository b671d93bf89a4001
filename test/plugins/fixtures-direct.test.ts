/**
 * Every sample of the shared Discord and Twilio fixtures, converted by calling the plugin
 * definitions directly (no pool), checked against its `expect`. The same samples go through the
 * real pool in `fixtures-pool.test.ts`.
 */
import test from 'ava';
import { MessageEventSchema, type PluginDefinition, sessionKey } from '../../core/index.js';
import { PassthroughForwardSchema } from '../../core/protocol/payloads.js';
import discordInteraction from '../../plugins/discord-interaction/index.js';
import followUp from '../../plugins/follow-up/index.js';
import scopeReattacher from '../../plugins/scope-reattacher/index.js';
import twilio from '../../plugins/twilio/index.js';
import { loadSharedFixture } from '../helpers/shared-fixtures.js';
import { expectMismatches, type ForwardFixture, type Produced } from './fixture-expect.js';
import { MemoryStore, testContext } from './plugin-context.js';

/** Convert one fixture forward, then feed the events to the stateful plugins sharing one store. */
async function runDirect(plugin: PluginDefinition, rawForward: Record<string, unknown>) {
  const forward = PassthroughForwardSchema.parse(rawForward);
  const store = new MemoryStore();
  const converter = testContext(plugin, { store });
  const result = await plugin.passthrough!.convert(
    { ...forward, body: Buffer.from(forward.bodyB64, 'base64') },
    converter.ctx,
  );
  const produced: Produced[] = [];
  const lines = [...converter.lines];
  for (const converted of result.events) {
    // the core validates every converted event; a plugin output that fails is a defect
    const event = MessageEventSchema.parse(converted.event) as Record<string, unknown>;
    const capabilities = converted.capabilities ?? [];
    const key = sessionKey(event.source as { platform: string });
    for (const stateful of [scopeReattacher, followUp] as PluginDefinition[]) {
      const run = testContext(stateful, { store });
      await stateful.inbound!({ event, sessionKey: key, capabilities }, run.ctx);
      lines.push(...run.lines);
    }
    produced.push({ event, capabilities });
  }
  return { result, produced, logs: JSON.stringify(lines), store: store.dump() };
}

for (const [file, plugin] of [
  ['discord-interactions.json', discordInteraction],
  ['twilio-webhooks.json', twilio],
] as const) {
  const fixture = loadSharedFixture<ForwardFixture>(file);
  test(`${file} has samples`, (t) => {
    t.true(fixture.samples.length > 0);
  });
  for (const sample of fixture.samples) {
    test(`direct ${file}: ${sample.name}`, async (t) => {
      const run = await runDirect(plugin as PluginDefinition, sample.forward);
      t.deepEqual(expectMismatches(sample.expect, run.produced, run), []);
      // a dropped sample always says why
      if (sample.expect === null) t.truthy(run.result.reason);
    });
  }
}

test('the expectation checker catches a leaked secret, a missing event and a wrong field', (t) => {
  const event = { text: 'x', token: 's3cret', source: { platform: 'discord', chat_id: 'c' } };
  const produced = [{ event, capabilities: [] }];
  const clean = { logs: '', store: '' };
  t.is(expectMismatches({ secret_value_never_seen: 's3cret' }, produced, clean).length, 1);
  t.is(
    expectMismatches({ secret_value_never_seen: 'zzz' }, produced, { logs: 'zzz', store: 'zzz' }).length,
    2,
  );
  t.is(expectMismatches({ no_field_anywhere: 'token' }, produced, clean).length, 1);
  t.is(expectMismatches({ text: 'y' }, produced, clean).length, 1);
  t.is(expectMismatches({ source: { chat_id: 'd' } }, produced, clean).length, 1);
  t.is(expectMismatches({ session_key: 'agent:main:discord:dm:c' }, produced, clean).length, 0);
  t.is(expectMismatches({ text: 'x' }, [], clean).length, 1);
  t.is(expectMismatches(null, produced, clean).length, 1);
});
