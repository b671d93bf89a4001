/**
 * The slip check of GATEWAY_RELAY_BOT_IDS against GATEWAY_RELAY_PLATFORMS compares each entry
 * with each listed platform that has none: bounded, so a large shared map cannot hold the start
 * (2 000 entries against 2 000 platforms took ~10 s of CPU compared whole).
 */
import test from 'ava';
import { botIdsWarnings, MAX_SLIP_PAIRS, parseBotIds } from '../../../core/config/bot-ids.js';
import { closestName } from '../../../core/config/closest-name.js';

const map = (names: readonly string[]) =>
  parseBotIds(JSON.stringify(Object.fromEntries(names.map((n, i) => [n, { botId: String(i) }]))));

test('a slip is named within the bound; past it no entry is compared', (t) => {
  const side = Math.ceil(Math.sqrt(MAX_SLIP_PAIRS));
  const others = Array.from({ length: side - 1 }, (_, i) => `other${i}`);
  const platforms = Array.from({ length: side - 1 }, (_, i) => `platform${i}`);
  // within: (side - 1)^2 pairs, the slip among them named
  const within = botIdsWarnings(map([...others.slice(1), 'dicsord']), [...platforms.slice(1), 'discord']);
  t.is(within.length, 1);
  t.regex(within[0]?.message ?? '', /entry "dicsord" .* did you mean "discord"\?/);
  // past: one more entry and one more platform than the bound allows
  const past = botIdsWarnings(map([...others, 'x1', 'x2', 'dicsord']), [...platforms, 'p1', 'p2', 'discord']);
  t.true((others.length + 3) * (platforms.length + 3) > MAX_SLIP_PAIRS);
  t.deepEqual(past, []);
});

test('the closest name is the same with the table cut short: first of equally close ones, none past the allowance', (t) => {
  t.is(closestName('dicsord', ['slack', 'discord', 'discard']), 'discord');
  t.is(closestName('discxrd', ['discard', 'discord']), 'discard');
  t.is(closestName('pingIntervalMS', ['pingIntervalMs', 'pongIntervalMs']), 'pingIntervalMs');
  t.is(closestName('log', ['bogus']), undefined);
  t.is(closestName('bogus', ['log']), undefined);
  t.is(closestName('agnet', ['agent']), 'agent');
  t.is(closestName('SIDECAR_DATADIR', ['SIDECAR_DATA_DIR', 'SIDECAR_CONFIG']), 'SIDECAR_DATA_DIR');
  // an exact match later in the list wins over a slip before it
  t.is(closestName('discord', ['dicsord', 'discord']), 'discord');
});
