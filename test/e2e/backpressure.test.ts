/**
 * Ingest backpressure reaches the socket (issue 2: everything bounded): when the pipeline holds
 * `inbox.maxIngestPending` frames the sidecar stops reading the relay socket, and reads again once
 * it drained; nothing read meanwhile is lost. The parts are tested alone (ingest, relay client);
 * this checks the wiring between them, in one sidecar on real parts.
 */
import test from 'ava';
import { textOf } from './agent-tools.js';
import { type Chat, discordMessage, startPushStack, until, WAIT } from './e2e-harness.js';

const CHAT: Chat = { channel: 'c-bp', user: 'u-bp' };

test('a full ingest pipeline pauses reading the relay socket, and reading resumes once it drained', async (t) => {
  // one frame in the pipeline is the limit: every frame read pauses the socket until its commit
  const { connector, agent, sc } = await startPushStack(t, { config: { inbox: { maxIngestPending: 1 } } });
  const texts = ['bp-1', 'bp-2', 'bp-3', 'bp-4', 'bp-5'];
  for (const [i, text] of texts.entries()) connector.send(discordMessage(CHAT, text, `m-bp-${i}`));
  await agent.waitUntil((all) => texts.every((x) => all.some((d) => textOf(d) === x)), WAIT);
  const paused = (on: boolean) =>
    sc.sink.lines.filter((l) => l.msg === 'relay reading paused state changed' && l.paused === on);
  t.true(paused(true).length >= 1, 'reading was paused');
  await until(() => paused(false).length === paused(true).length, WAIT, 'reading resumed');
  t.deepEqual(agent.deliveries.map(textOf), texts, 'each frame delivered once, in order');
});
