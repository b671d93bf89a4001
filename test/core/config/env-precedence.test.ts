/**
 * spec/config.md: "Environment variables win over the optional config file". Every variable is
 * set in both places with different valid values, and the environment's must be the one in force;
 * a variable added to the env map without a row here fails the coverage test.
 */
import test from 'ava';
import { ENV_BINDINGS, IDENTITY_ENV } from '../../../core/config/env-map.js';
import { deepMerge, loadConfig } from '../../../core/config/load.js';
import { tmpFile } from './load-harness.js';

/** [variable, its config path, the file's value, the env's text, the value the env's text means] */
const ROWS: readonly (readonly [string, string, unknown, string, unknown])[] = [
  ['GATEWAY_RELAY_URL', 'relay.url', 'https://file.example', 'https://env.example', 'https://env.example'],
  ['GATEWAY_RELAY_ID', 'relay.gatewayId', 'gw-file', 'gw-env', 'gw-env'],
  ['GATEWAY_RELAY_SECRET', 'relay.secret', 'file-secret', 'env-secret', 'env-secret'],
  ['GATEWAY_RELAY_DELIVERY_KEY', 'relay.deliveryKey', 'file-key', 'env-key', 'env-key'],
  ['GATEWAY_RELAY_IDENTITY_TOKEN', 'relay.identityToken', 'file-id', 'env-id', 'env-id'],
  ['GATEWAY_RELAY_ENROLL_TOKEN', 'relay.enrollToken', 'file-enrol', 'env-enrol', 'env-enrol'],
  [
    'GATEWAY_RELAY_WAKE_URL',
    'relay.wakeUrl',
    'https://f.example/wake',
    'https://e.example/wake',
    'https://e.example/wake',
  ],
  ['GATEWAY_RELAY_INSTANCE_ID', 'relay.instanceId', 'i-file', 'i-env', 'i-env'],
  ['GATEWAY_RELAY_ENDPOINT', 'relay.endpoint', 'https://f.example', 'https://e.example', 'https://e.example'],
  ['GATEWAY_RELAY_ROUTE_KEYS', 'relay.routeKeys', ['file'], 'e1, e2', ['e1', 'e2']],
  ['AGENT_URL', 'agent.url', 'http://127.0.0.1:1/file', 'http://127.0.0.1:2/env', 'http://127.0.0.1:2/env'],
  ['AGENT_MODE', 'agent.mode', 'push', 'pull', 'pull'],
  ['SIDECAR_LISTEN', 'api.listen', '127.0.0.1:7701', '127.0.0.1:7702', '127.0.0.1:7702'],
  ['SIDECAR_API_TOKEN', 'api.token', 'file-token-0123456789', 'env-token-0123456789', 'env-token-0123456789'],
  ['SIDECAR_DATA_DIR', 'dataDir', '/tmp/file-data', '/tmp/env-data', '/tmp/env-data'],
  [
    'SIDECAR_PLUGINS',
    'pluginsPath',
    '/tmp/file-plugins.json',
    '/tmp/env-plugins.json',
    '/tmp/env-plugins.json',
  ],
  ['LOG_LEVEL', 'log.level', 'warn', 'debug', 'debug'],
  ['LOG_PRETTY', 'log.pretty', false, 'yes', true],
  [
    'GATEWAY_RELAY_PLATFORMS',
    'relay.identities',
    [{ platform: 'file' }],
    'env',
    [{ platform: 'env', botId: '' }],
  ],
  [
    'GATEWAY_RELAY_PLATFORM',
    'relay.identities',
    [{ platform: 'file' }],
    'legacy',
    [{ platform: 'legacy', botId: '' }],
  ],
  [
    'GATEWAY_RELAY_BOT_ID',
    'relay.identities',
    [{ platform: 'file' }],
    '42',
    [{ platform: 'relay', botId: '42' }],
  ],
];

/** `{a: {b: value}}` for the path `a.b`. */
function nested(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reduceRight<Record<string, unknown>>(
      (inner, key, i, keys) => ({ [key]: i === keys.length - 1 ? value : inner }),
      {},
    );
}

function at(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
}

for (const [name, path, fromFile, envText, meant] of ROWS) {
  test(`${name} wins over ${path} in the config file`, (t) => {
    // a push URL in every file, so the file's `agent.mode: push` is valid on its own
    const settings = deepMerge({ agent: { url: 'http://127.0.0.1:3/base' } }, nested(path, fromFile));
    const file = tmpFile('c.json', JSON.stringify(settings));
    t.notDeepEqual(at(loadConfig({ env: {}, file }), path), meant, 'the file alone sets another value');
    t.deepEqual(at(loadConfig({ env: { [name]: envText }, file }), path), meant);
  });
}

test('every variable of the env map has a precedence row', (t) => {
  const rows = new Set(ROWS.map(([name]) => name));
  // GATEWAY_RELAY_BOT_IDS only names bot ids for GATEWAY_RELAY_PLATFORMS (load-identities.test.ts)
  const names = [
    ...ENV_BINDINGS.map((b) => b.env),
    ...IDENTITY_ENV.filter((n) => n !== 'GATEWAY_RELAY_BOT_IDS'),
  ];
  t.deepEqual(
    names.filter((n) => !rows.has(n)),
    [],
  );
});

for (const [name, path, fromFile] of ROWS) {
  test(`${name} set to blanks counts as unset, as the empty string does: ${path} from the file stands`, (t) => {
    // was: a blank value was taken as given: SIDECAR_DATA_DIR=' ' made a data dir named ' ', a
    // blank GATEWAY_RELAY_ID signed tokens for ' ', a blank GATEWAY_RELAY_URL refused the start
    const settings = deepMerge({ agent: { url: 'http://127.0.0.1:3/base' } }, nested(path, fromFile));
    const file = tmpFile('c.json', JSON.stringify(settings));
    const fileOnly = at(loadConfig({ env: {}, file }), path);
    t.deepEqual(at(loadConfig({ env: { [name]: ' \t ' }, file }), path), fileOnly);
  });
}

test('SIDECAR_CONFIG set to blanks names no config file', (t) => {
  // was: CORE_ERR_CONFIG_FILE_UNREADABLE "config file   cannot be read: ENOENT"
  t.is(loadConfig({ env: { SIDECAR_CONFIG: '  ' } }).dataDir, './.relay-sidecar');
});
