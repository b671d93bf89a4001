/**
 * Property-based fuzzing of configuration loading: random values for every environment variable
 * of spec/config.md (random text, near-valid URLs with credentials, numbers, JSON for the bot id
 * map, boolean words), and random config files (mutated valid settings, broken YAML). Loading
 * either returns a frozen config or throws a RelayError with a `CORE_ERR_CONFIG_*` code — never
 * another exception (the CLI would print its stack) — and no message holds a secret: the value
 * of a secret variable, or the password of a URL. fast-check prints the seed of a failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';
import { type Json, mutate, mutation } from '../../helpers/json-mutation.js';

/** In every generated secret, and in every generated URL password. */
const SECRET = 'Zk8SECRET';

const SECRET_NAMES = [
  'GATEWAY_RELAY_SECRET',
  'GATEWAY_RELAY_DELIVERY_KEY',
  'GATEWAY_RELAY_IDENTITY_TOKEN',
  'GATEWAY_RELAY_ENROLL_TOKEN',
  'SIDECAR_API_TOKEN',
];
const URL_NAMES = ['GATEWAY_RELAY_URL', 'GATEWAY_RELAY_WAKE_URL', 'GATEWAY_RELAY_ENDPOINT', 'AGENT_URL'];
const OTHER_NAMES = [
  'AGENT_MODE',
  'GATEWAY_RELAY_BOT_IDS',
  'GATEWAY_RELAY_BOT_ID',
  'GATEWAY_RELAY_ID',
  'GATEWAY_RELAY_INSTANCE_ID',
  'GATEWAY_RELAY_PLATFORMS',
  'GATEWAY_RELAY_PLATFORM',
  'GATEWAY_RELAY_ROUTE_KEYS',
  'LOG_LEVEL',
  'LOG_PRETTY',
  'SIDECAR_DATA_DIR',
  'SIDECAR_LISTEN',
  'SIDECAR_PLUGINS',
];

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1e400',
    'NaN',
    'true',
    'maybe',
    'null',
    '{}',
    '[]',
    '__proto__',
    'constructor',
  ),
);
const secretValue = fc.tuple(text, text).map(([a, b]) => `${a}${SECRET}${b}`);
const urlValue = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc
    .tuple(
      fc.constantFrom('http', 'https', 'ws', 'wss', 'ftp', 'unix', 'HTTPS', 'javascript'),
      fc.webAuthority(),
      text,
    )
    .map(([scheme, host, tail]) => `${scheme}://user:${SECRET}${tail}@${host}/${tail}`),
  fc.tuple(text, text).map(([a, b]) => `${a}://${a}:${SECRET}@${b}`),
  text,
);
const botIds = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
  fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('discord', '__proto__', 'constructor', 'toString'),
        fc.string({ maxLength: 8 }),
      ),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 3 },
    )
    .map((d) => JSON.stringify(d)),
  text,
);
const otherValue = (name: string) => {
  if (name === 'GATEWAY_RELAY_BOT_IDS') return botIds;
  if (name === 'SIDECAR_LISTEN') {
    return fc.oneof(
      text,
      fc.constantFrom('127.0.0.1:0', 'unix:', 'unix:/tmp/x.sock', '[::1]:99999', 'localhost:-1', ':7700'),
    );
  }
  if (name === 'GATEWAY_RELAY_PLATFORMS')
    return fc.oneof(text, fc.constantFrom('discord,telegram', ',,', '__proto__,constructor'));
  return text;
};

/** A random environment: a random subset of the variables, each with a random value. */
const envArb: fc.Arbitrary<Record<string, string>> = fc
  .tuple(
    fc
      .subarray(SECRET_NAMES)
      .chain((names) => fc.tuple(...names.map((n) => secretValue.map((v) => [n, v] as const)))),
    fc
      .subarray(URL_NAMES)
      .chain((names) => fc.tuple(...names.map((n) => urlValue.map((v) => [n, v] as const)))),
    fc
      .subarray(OTHER_NAMES)
      .chain((names) => fc.tuple(...names.map((n) => otherValue(n).map((v) => [n, v] as const)))),
  )
  .map(([a, b, c]) => Object.fromEntries([...a, ...b, ...c]));

/** Load; the outcome is a frozen config or a RelayError of the config family. */
function load(env: Record<string, string>, file?: string): { ok: true } | { ok: false; message: string } {
  try {
    const cfg = loadConfig({ env, ...(file ? { file } : {}) });
    if (!Object.isFrozen(cfg) || !Object.isFrozen(cfg.relay)) throw new Error('config not frozen');
    return { ok: true };
  } catch (err) {
    if (!(err instanceof RelayError)) {
      throw new Error(`not a RelayError: ${(err as Error)?.stack ?? String(err)}`);
    }
    if (!err.code.startsWith('CORE_ERR_CONFIG_')) throw new Error(`unexpected code ${err.code}`);
    const all = `${err.message} ${JSON.stringify(err.details ?? {})}`;
    if (all.includes(SECRET)) throw new Error(`a secret in the error: ${all}`);
    return { ok: false, message: err.message };
  }
}

test('any environment: a frozen config or a config error, never a secret in it', (t) => {
  fc.assert(
    fc.property(envArb, (env) => {
      load(env);
    }),
    { numRuns: 1_000, includeErrorInReport: true },
  );
  t.pass();
});

/** Settings of a valid config file, to mutate. */
const VALID_FILE: Record<string, Json> = {
  relay: {
    url: 'https://c.example',
    gatewayId: 'gw',
    secret: `s-${SECRET}`,
    identities: [{ platform: 'discord', botId: '1' }],
  },
  agent: { mode: 'push', url: 'http://127.0.0.1:9000/hook' },
  api: { listen: '127.0.0.1:7700', token: `t-${SECRET}` },
  inbox: { maxAttempts: 3 },
  log: { level: 'info', pretty: false },
};

/** YAML of `value`; JSON (YAML too) when it nests too deep for the YAML writer's recursion. */
function yamlOf(value: Json): string {
  try {
    return toYaml(value);
  } catch {
    return JSON.stringify(value);
  }
}

test('any config file (mutated settings, broken YAML): a config or a config error, never a secret', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-config-prop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  const content = fc.oneof(
    fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => yamlOf(mutate(VALID_FILE, ms))),
    fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => JSON.stringify(mutate(VALID_FILE, ms))),
    fc.tuple(fc.nat(), text).map(([cut, junk]) => {
      const yaml = toYaml(VALID_FILE);
      const at = cut % yaml.length;
      return `${yaml.slice(0, at)}${junk}${yaml.slice(at)}`;
    }),
    text.map((s) => `relay:\n  secret: "${SECRET}${s}\n  url: [${s}`),
  );
  fc.assert(
    fc.property(content, envArb, (yaml, env) => {
      writeFileSync(file, yaml);
      load(env, file);
    }),
    { numRuns: 400, includeErrorInReport: true },
  );
  t.pass();
});
