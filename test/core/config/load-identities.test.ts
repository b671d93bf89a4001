/**
 * loadConfig's relay identities: GATEWAY_RELAY_PLATFORMS with GATEWAY_RELAY_BOT_IDS, the legacy
 * GATEWAY_RELAY_PLATFORM and BOT_ID, empty variables counting as unset, and a malformed
 * GATEWAY_RELAY_BOT_IDS refusing the start with every other bad key reported beside it.
 */
import test from 'ava';
import type { ConfigWarning } from '../../../core/config/env-map.js';
import { loadConfig } from '../../../core/config/load.js';
import { configError, tmpFile } from './load-harness.js';

/** The config `env` loads to, and the warnings the load said. */
function loadWarned(env: NodeJS.ProcessEnv, file?: string) {
  const warnings: ConfigWarning[] = [];
  const config = loadConfig({ env, ...(file ? { file } : {}), warn: (w) => warnings.push(w) });
  return { config, warnings };
}

test('GATEWAY_RELAY_PLATFORMS with BOT_IDS: one identity each, in order; missing entry ⇒ empty botId', (t) => {
  const cfg = loadConfig({
    env: {
      GATEWAY_RELAY_PLATFORMS: 'discord, slack,twilio',
      GATEWAY_RELAY_BOT_IDS: '{"discord":{"botId":"123"},"twilio":{"botId":456}}',
      GATEWAY_RELAY_PLATFORM: 'ignored',
    },
  });
  t.deepEqual(cfg.relay.identities, [
    { platform: 'discord', botId: '123' },
    { platform: 'slack', botId: '' },
    { platform: 'twilio', botId: '456' },
  ]);
});

test('legacy GATEWAY_RELAY_PLATFORM + BOT_ID when PLATFORMS is unset', (t) => {
  const cfg = loadConfig({ env: { GATEWAY_RELAY_PLATFORM: 'telegram', GATEWAY_RELAY_BOT_ID: 'b1' } });
  t.deepEqual(cfg.relay.identities, [{ platform: 'telegram', botId: 'b1' }]);
});

test('empty identity variables count as unset: the config file keeps its identities', (t) => {
  const file = tmpFile('c.yaml', 'relay:\n  identities:\n    - platform: discord\n      botId: "123"\n');
  const fromFile = [{ platform: 'discord', botId: '123' }];
  for (const env of [
    { GATEWAY_RELAY_PLATFORM: '' },
    { GATEWAY_RELAY_BOT_ID: '' },
    { GATEWAY_RELAY_PLATFORM: ' ', GATEWAY_RELAY_BOT_ID: '' },
    { GATEWAY_RELAY_PLATFORMS: '', GATEWAY_RELAY_PLATFORM: '', GATEWAY_RELAY_BOT_ID: '' },
  ]) {
    t.deepEqual(loadConfig({ env, file }).relay.identities, fromFile, JSON.stringify(env));
  }
  // a value in either one is the legacy identity, over the file (env wins)
  t.deepEqual(loadConfig({ env: { GATEWAY_RELAY_BOT_ID: 'b9' }, file }).relay.identities, [
    { platform: 'relay', botId: 'b9' },
  ]);
  t.deepEqual(
    loadConfig({ env: { GATEWAY_RELAY_PLATFORM: 'slack', GATEWAY_RELAY_BOT_ID: '' }, file }).relay.identities,
    [{ platform: 'slack', botId: '' }],
  );
});

for (const [name, raw] of [
  ['not JSON', '{discord:'],
  ['an array', '[1]'],
  ['an entry without botId', '{"discord":{}}'],
] as const) {
  test(`malformed GATEWAY_RELAY_BOT_IDS (${name}) refuses the start`, (t) => {
    const err = configError(() =>
      loadConfig({ env: { GATEWAY_RELAY_PLATFORMS: 'discord', GATEWAY_RELAY_BOT_IDS: raw } }),
    );
    t.is(err.code, 'CORE_ERR_CONFIG_BOT_IDS_MALFORMED');
    t.regex(err.message, /GATEWAY_RELAY_BOT_IDS/);
  });
}

test('malformed GATEWAY_RELAY_BOT_IDS refuses the start even without GATEWAY_RELAY_PLATFORMS', (t) => {
  for (const env of [
    { GATEWAY_RELAY_BOT_IDS: '{discord:' },
    { GATEWAY_RELAY_BOT_IDS: '[1]', GATEWAY_RELAY_PLATFORM: 'discord', GATEWAY_RELAY_BOT_ID: 'b1' },
  ]) {
    const err = configError(() => loadConfig({ env }));
    t.is(err.code, 'CORE_ERR_CONFIG_BOT_IDS_MALFORMED');
    t.regex(err.message, /GATEWAY_RELAY_BOT_IDS/);
  }
});

test('a malformed GATEWAY_RELAY_BOT_IDS is reported with every other bad key, not alone', (t) => {
  const err = configError(() =>
    loadConfig({ env: { GATEWAY_RELAY_BOT_IDS: '{bad', LOG_LEVEL: 'loud', SIDECAR_API_TOKEN: 'short' } }),
  );
  t.is(err.code, 'CORE_ERR_CONFIG_BOT_IDS_MALFORMED');
  // was: the bot ids alone; the other keys came one restart later
  t.regex(err.message, /GATEWAY_RELAY_BOT_IDS is not valid JSON/);
  t.regex(err.message, /log\.level \(LOG_LEVEL\)/);
  t.regex(err.message, /api\.token \(SIDECAR_API_TOKEN\)/);
  t.false(err.message.includes('short'));
});

test('a well-formed GATEWAY_RELAY_BOT_IDS without PLATFORMS is accepted (and unused)', (t) => {
  const cfg = loadConfig({ env: { GATEWAY_RELAY_BOT_IDS: '{"discord":{"botId":"123"}}' } });
  t.deepEqual(cfg.relay.identities, [{ platform: 'relay', botId: '' }]);
});

test('a platform with a space, or an identity named twice, refuses the start naming GATEWAY_RELAY_PLATFORMS', (t) => {
  // was: "discord twilio" started as one identity, a hello for platform "discord twilio", and
  // "discord,discord" sent the same hello twice; neither is an identity a connector fronts
  const spaced = configError(() => loadConfig({ env: { GATEWAY_RELAY_PLATFORMS: 'discord twilio' } }));
  t.is(spaced.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(spaced.message, /relay\.identities\.0\.platform \(GATEWAY_RELAY_PLATFORMS\): .*comma/);
  const twice = configError(() => loadConfig({ env: { GATEWAY_RELAY_PLATFORMS: 'discord,twilio,discord' } }));
  t.is(twice.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(twice.message, /relay\.identities\.2 \(GATEWAY_RELAY_PLATFORMS\): is identity 0 again.*once/);
  // the same platform with two bots (config file) is two identities
  const file = tmpFile(
    'c.yaml',
    'relay:\n  identities:\n    - platform: discord\n      botId: "1"\n    - platform: discord\n      botId: "2"\n',
  );
  t.is(loadConfig({ env: {}, file }).relay.identities.length, 2);
});

test('a GATEWAY_RELAY_BOT_IDS entry one slip from a listed platform without one is warned of, not refused', (t) => {
  // spec/config.md: a missing entry gives botId "", only a malformed map refuses the start; the
  // slip was silently unused, so the load names it as a warning (run and doctor print it)
  const env = {
    GATEWAY_RELAY_PLATFORMS: 'discord,twilio',
    GATEWAY_RELAY_BOT_IDS: '{"dicsord":{"botId":"123"}}',
  };
  const { config, warnings } = loadWarned(env);
  t.deepEqual(config.relay.identities, [
    { platform: 'discord', botId: '' },
    { platform: 'twilio', botId: '' },
  ]);
  t.is(warnings.length, 1);
  t.regex(
    warnings[0]?.message ?? '',
    /^GATEWAY_RELAY_BOT_IDS entry "dicsord" is no platform of GATEWAY_RELAY_PLATFORMS: did you mean "discord"\?/,
  );
  t.is(warnings[0]?.fix, 'rename the entry "discord"');
  t.false(JSON.stringify(warnings).includes('123'), 'the bot id is not echoed');
  const malformed = { ...env, GATEWAY_RELAY_BOT_IDS: '{"dicsord":' };
  const said: ConfigWarning[] = [];
  t.throws(() => loadConfig({ env: malformed, warn: (w) => said.push(w) }));
  t.deepEqual(said, [], 'a malformed map is refused, not warned of');
  t.deepEqual(
    loadWarned({ GATEWAY_RELAY_BOT_IDS: env.GATEWAY_RELAY_BOT_IDS }).warnings,
    [],
    'no platforms listed',
  );
});

test('the warnings of the environment are said before a config file that cannot be read refuses the load', (t) => {
  const said: ConfigWarning[] = [];
  const env = { GATEWAY_RELAY_PLATFORMS: 'discord', GATEWAY_RELAY_BOT_IDS: '{"dicsord":{"botId":"1"}}' };
  const err = configError(() =>
    loadConfig({ env, file: '/nonexistent/sidecar.yaml', warn: (w) => said.push(w) }),
  );
  t.is(err.code, 'CORE_ERR_CONFIG_FILE_UNREADABLE');
  t.is(said.length, 1);
});

test('a GATEWAY_RELAY_BOT_IDS entry for a platform not listed, and near none without one, is unused', (t) => {
  // one map shared by sidecars fronting different platforms: the others' entries are not slips
  const { config, warnings } = loadWarned({
    GATEWAY_RELAY_PLATFORMS: 'discord',
    GATEWAY_RELAY_BOT_IDS: '{"discord":{"botId":"1"},"discords":{"botId":"2"},"slack":{"botId":"3"}}',
  });
  t.deepEqual(config.relay.identities, [{ platform: 'discord', botId: '1' }]);
  t.deepEqual(warnings, []);
});

test('a platform named like an Object property (constructor, __proto__) takes its own entry or ""', (t) => {
  // was: botIds[platform] read Object.prototype's members, and the start was refused with
  // "botId: must be a string, not a function" for a platform the map has no entry for
  t.deepEqual(
    loadConfig({ env: { GATEWAY_RELAY_PLATFORMS: 'constructor,toString', GATEWAY_RELAY_BOT_IDS: '{}' } })
      .relay.identities,
    [
      { platform: 'constructor', botId: '' },
      { platform: 'toString', botId: '' },
    ],
  );
  t.deepEqual(
    loadConfig({
      env: { GATEWAY_RELAY_PLATFORMS: '__proto__', GATEWAY_RELAY_BOT_IDS: '{"__proto__":{"botId":"5"}}' },
    }).relay.identities,
    [{ platform: '__proto__', botId: '5' }],
  );
});

test('a key of a GATEWAY_RELAY_BOT_IDS entry other than botId is warned of, naming entry, key and the key meant', (t) => {
  // was: ignored without a word; config.md fixes an entry's shape as {"botId": …}
  const { config, warnings } = loadWarned({
    GATEWAY_RELAY_PLATFORMS: 'discord',
    GATEWAY_RELAY_BOT_IDS: '{"discord":{"botId":"111","bot_id":"222"},"slack":{"botId":"333","name":"444"}}',
  });
  t.deepEqual(config.relay.identities, [{ platform: 'discord', botId: '111' }]);
  t.deepEqual(
    warnings.map((w) => w.message),
    [
      'GATEWAY_RELAY_BOT_IDS entry "discord" has the key "bot_id", which is not read: did you mean "botId"? (an entry takes only botId)',
      // an entry for a platform this sidecar does not list is still one other sidecars read
      'GATEWAY_RELAY_BOT_IDS entry "slack" has the key "name", which is not read (an entry takes only botId)',
    ],
  );
  t.deepEqual(
    warnings.map((w) => w.fix),
    ['remove the key "bot_id" from the entry "discord"', 'remove the key "name" from the entry "slack"'],
  );
  for (const id of ['111', '222', '333', '444']) t.false(JSON.stringify(warnings).includes(id), id);
  // the map is checked whenever set, even while no platforms are listed
  t.is(loadWarned({ GATEWAY_RELAY_BOT_IDS: '{"discord":{"botId":"1","botid":"2"}}' }).warnings.length, 1);
});

test('an entry whose only key is a slip of botId is refused as malformed, naming the key meant, never the id', (t) => {
  const err = configError(() =>
    loadConfig({
      env: { GATEWAY_RELAY_PLATFORMS: 'discord', GATEWAY_RELAY_BOT_IDS: '{"discord":{"botID":"98765"}}' },
    }),
  );
  t.is(err.code, 'CORE_ERR_CONFIG_BOT_IDS_MALFORMED');
  t.regex(err.message, /entry "discord" has no string botId \(it has "botID": did you mean "botId"\?\)/);
  t.false(err.message.includes('98765'));
});

test('the warnings of the GATEWAY_RELAY_BOT_IDS keys are bounded and print names escaped', (t) => {
  const map: Record<string, unknown> = {};
  for (let i = 0; i < 50; i += 1) map[`p${i}`] = { botId: `${i}`, extra: 1 };
  map.q = { botId: '1', 'x\n\u001b[2Jy': 1 };
  const { warnings } = loadWarned({ GATEWAY_RELAY_BOT_IDS: JSON.stringify(map) });
  t.is(warnings.length, 11);
  t.regex(
    warnings[10]?.message ?? '',
    /^GATEWAY_RELAY_BOT_IDS has 41 more keys that are not read \(an entry takes only botId\)$/,
  );
  const escaped = loadWarned({ GATEWAY_RELAY_BOT_IDS: JSON.stringify({ q: map.q }) }).warnings;
  t.is(escaped[0]?.message.includes('"x\\n\\u001b[2Jy"'), true, escaped[0]?.message);
  t.false(
    [...(escaped[0]?.message ?? '')].some((c) => c.charCodeAt(0) < 0x20),
    'a control character',
  );
});

test('an entry whose botId is no string is refused saying so, not as a slip of botId itself', (t) => {
  // was: 'has no string botId (it has "botId": did you mean "botId"?)', a hint to write what was there
  for (const entry of ['{"botId":null}', '{"botId":{"id":"98765"}}', '{"botId":true,"botid":"98765"}']) {
    const err = configError(() =>
      loadConfig({
        env: { GATEWAY_RELAY_PLATFORMS: 'discord', GATEWAY_RELAY_BOT_IDS: `{"discord":${entry}}` },
      }),
    );
    t.is(err.code, 'CORE_ERR_CONFIG_BOT_IDS_MALFORMED');
    t.regex(err.message, /entry "discord" has a botId that is no string or number; expected/, entry);
    t.false(err.message.includes('did you mean'), entry);
    t.false(err.message.includes('98765'), entry);
  }
});

test('the warnings of entries a slip from a listed platform are bounded as those of keys', (t) => {
  // was: one line per entry, however many: a shared map of thousands flooded stderr
  const map: Record<string, unknown> = { slack: { botId: '1' } };
  for (const c of 'abcdefghijklmnopqrstuvwxyz0123') map[`discord${c}`] = { botId: '98765' };
  const { config, warnings } = loadWarned({
    GATEWAY_RELAY_PLATFORMS: 'discord,slack',
    GATEWAY_RELAY_BOT_IDS: JSON.stringify(map),
  });
  t.deepEqual(config.relay.identities, [
    { platform: 'discord', botId: '' },
    { platform: 'slack', botId: '1' },
  ]);
  t.is(warnings.length, 11);
  t.regex(warnings[0]?.message ?? '', /^GATEWAY_RELAY_BOT_IDS entry "discorda" is no platform/);
  t.regex(
    warnings[10]?.message ?? '',
    /^GATEWAY_RELAY_BOT_IDS has 20 more entries that are no platform of GATEWAY_RELAY_PLATFORMS/,
  );
  t.false(JSON.stringify(warnings).includes('98765'));
});

test('the platform meant is shown escaped as the entry is: a newline in it cannot forge a line', (t) => {
  // was: the entry JSON-quoted, the listed platform as written (said before the load refused it)
  const platform = 'discor\nd\u001b[2J';
  const warnings: ConfigWarning[] = [];
  const env = {
    GATEWAY_RELAY_PLATFORMS: platform,
    GATEWAY_RELAY_BOT_IDS: JSON.stringify({ 'discor\nd\u001b[2X': { botId: '1' } }),
  };
  configError(() => loadConfig({ env, warn: (w) => warnings.push(w) }));
  t.is(warnings.length, 1);
  for (const text of [warnings[0]?.message ?? '', warnings[0]?.fix ?? '']) {
    t.true(text.includes('"discor\\nd\\u001b[2J"'), text);
    t.false(
      [...text].some((c) => c.charCodeAt(0) < 0x20),
      'a control character',
    );
  }
});
