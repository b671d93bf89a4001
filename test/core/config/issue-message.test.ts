/**
 * What a refused configuration says: the key, what is wrong and what to write instead, never the
 * value (a secret may be set in the wrong place or the wrong form).
 */
import test from 'ava';
import { loadConfig, validateConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';

const SECRET = 'cfg-secret-0123456789abcdef';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelayError && err.code === 'CORE_ERR_CONFIG_INVALID') return err.message;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

test('an unknown key in a list entry names the keys that entry takes, and the near one', (t) => {
  // was: 'unknown key "extra" (this section takes )': the keys of an array's entries were not found
  t.regex(
    messageOf(() => validateConfig({ relay: { policies: [{ platform: 'x', extra: 1 }] } })),
    /relay\.policies\.0: unknown key "extra" \(this section takes platform, requireAddress, freeResponseScopes, allowOtherBots\)/,
  );
  t.regex(
    messageOf(() => validateConfig({ relay: { identities: [{ platform: 'x', botid: '1' }] } })),
    /relay\.identities\.0 \(GATEWAY_RELAY_PLATFORMS\): unknown key "botid": did you mean "botId"\?/,
  );
});

test('a number in quotes says to drop them, and the unit of its key', (t) => {
  // config.md: a number in quotes is refused saying the key's unit; a quoted plain number said
  // "must be a number, not a string" without it, as if "30000" could be any unit
  t.regex(
    messageOf(() => validateConfig({ relay: { pingIntervalMs: '30000' }, store: { maxKeyBytes: '1024' } })),
    /relay\.pingIntervalMs: must be a number of ms, not a string: write it without quotes[\s\S]*store\.maxKeyBytes: must be a number of bytes, not a string/,
  );
  t.regex(
    messageOf(() => validateConfig({ agent: { concurrency: '8' } })),
    /agent\.concurrency: must be a number, not a string: write it without quotes/,
  );
});

test('a fraction where a whole number goes says so', (t) => {
  // was: 'Invalid input: expected int, received number'
  t.regex(
    messageOf(() => validateConfig({ agent: { concurrency: 1.5 } })),
    /agent\.concurrency: must be a whole number/,
  );
});

test('no value of a secret key, set in any wrong form or place, is echoed', (t) => {
  const messages = [
    messageOf(() => validateConfig({ relay: { secret: 1234567890, url: SECRET } })),
    messageOf(() => validateConfig({ api: { token: `x${SECRET}`.slice(0, 10), listen: SECRET } })),
    messageOf(() =>
      validateConfig({ relay: { identities: [{ platform: SECRET, botId: 5 }], routeKeys: SECRET } }),
    ),
    messageOf(() =>
      loadConfig({
        env: {
          GATEWAY_RELAY_URL: `https://u:${SECRET}@`,
          AGENT_URL: `ftp://u:${SECRET}@h/`,
          LOG_PRETTY: SECRET,
          LOG_LEVEL: SECRET,
          AGENT_MODE: SECRET,
          SIDECAR_API_TOKEN: SECRET.slice(0, 9),
        },
      }),
    ),
  ];
  for (const m of messages) {
    t.false(m.includes(SECRET.slice(0, 9)), m);
  }
});

test('two letters swapped are one slip: the near key is named', (t) => {
  // `agnet` was two edits from `agent` (Levenshtein), over a five-letter name's allowance of one,
  // so only the list of keys came back
  t.regex(
    messageOf(() => validateConfig({ agnet: { mode: 'pull' } })),
    /unknown key "agnet": did you mean "agent"\?/,
  );
  t.regex(
    messageOf(() => validateConfig({ relay: { pnigIntervalMs: 1000 } })),
    /unknown key "pnigIntervalMs": did you mean "pingIntervalMs"\?/,
  );
});

test("a value out of its range says the bound in the key's unit, not zod's words", (t) => {
  // was: 'Too small: expected number to be >0', 'Too big: expected number to be <=64'
  const message = messageOf(() =>
    validateConfig({ agent: { concurrency: 0, timeoutMs: -5 }, pool: { maxThreads: 100 } }),
  );
  t.regex(message, /agent\.concurrency: must be greater than 0\n/);
  t.regex(message, /agent\.timeoutMs: must be greater than 0 ms\n/);
  t.regex(message, /pool\.maxThreads: must be at most 64(\n|$)/);
  t.notRegex(message, /Too (small|big)/);
});

test('an empty string or list says it must not be empty and what to do instead', (t) => {
  // was: 'Too small: expected string to have >=1 characters', '… array to have >=1 items'
  const message = messageOf(() =>
    validateConfig({ dataDir: '', relay: { routeKeys: [''], identities: [] } }),
  );
  t.regex(message, /dataDir \(SIDECAR_DATA_DIR\): must not be empty: give a value, or leave the key out/);
  t.regex(message, /relay\.routeKeys\.0: must not be empty/);
  t.regex(message, /relay\.identities \(GATEWAY_RELAY_PLATFORMS\): must list at least 1 entry/);
  const comma = messageOf(() => loadConfig({ env: { GATEWAY_RELAY_PLATFORMS: ' , ' } }));
  t.regex(comma, /relay\.identities \(GATEWAY_RELAY_PLATFORMS\): must list at least 1 entry/);
});

test('an empty value is told to leave its key out only where that key may be left out', (t) => {
  // was: 'give a value, or leave the key out for its default' for every key: a policy's platform
  // has none (left out, it "is required"), gatewayId is optional with none, a list entry is no key
  const message = messageOf(() =>
    validateConfig({ relay: { policies: [{ platform: '' }], routeKeys: [''], gatewayId: '' } }),
  );
  t.regex(message, /relay\.policies\.0\.platform: must not be empty: give a value(\n|$)/);
  t.regex(message, /relay\.routeKeys\.0: must not be empty: give a value, or remove the entry(\n|$)/);
  t.regex(
    message,
    /relay\.gatewayId \(GATEWAY_RELAY_ID\): must not be empty: give a value, or leave the key out(\n|$)/,
  );
});

test('a word outside its choices lists them, and says when only the case is wrong', (t) => {
  // was: 'Invalid option: expected one of "push"|"pull"'
  const message = messageOf(() => loadConfig({ env: { AGENT_MODE: 'PUSH', LOG_LEVEL: 'verbose' } }));
  t.regex(message, /agent\.mode \(AGENT_MODE\): must be push or pull \(in lower case\)/);
  t.regex(message, /log\.level \(LOG_LEVEL\): must be fatal, error, warn, info, debug, trace or silent\n?/);
  t.notRegex(message, /log\.level[^\n]*lower case/);
  t.notRegex(message, /verbose/);
});

test('a value of the wrong kind names the kind the key takes and the kind it got', (t) => {
  // was: 'Invalid input: expected object, received string' / 'expected string, received null'
  const message = messageOf(() => validateConfig({ agent: 'push', relay: { url: null, routeKeys: 'a,b' } }));
  t.regex(message, /agent: must be an object of keys, not a string/);
  t.regex(message, /relay\.url \(GATEWAY_RELAY_URL\): must be a string, not null: leave the key out/);
  t.regex(message, /relay\.routeKeys \(GATEWAY_RELAY_ROUTE_KEYS\): must be a list, not a string/);
  t.notRegex(message, /Invalid input/);
});
