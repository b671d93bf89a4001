/**
 * loadConfig's sources: the frozen defaults, environment variables mapped onto nested keys and overriding
 * the config file (YAML or JSON), and the config file refused as a whole: unreadable, not an object, with
 * unknown keys, or writable by every local user.
 */
import { chmodSync } from 'node:fs';
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { configError, SECRET, tmpFile } from './load-harness.js';

test('defaults: pull mode, loopback API, legacy relay identity, frozen', (t) => {
  const cfg = loadConfig({ env: {} });
  t.is(cfg.agent.mode, 'pull');
  t.is(cfg.api.listen, '127.0.0.1:7700');
  t.deepEqual(cfg.relay.identities, [{ platform: 'relay', botId: '' }]);
  t.is(cfg.relay.pingIntervalMs, 30_000);
  t.is(cfg.relay.pongTimeoutMs, 60_000);
  t.is(cfg.relay.maxPayloadBytes, 16 * 1024 * 1024);
  t.true(Object.isFrozen(cfg));
  t.true(Object.isFrozen(cfg.relay));
  t.true(Object.isFrozen(cfg.relay.identities[0]));
});

test('env maps onto nested keys; AGENT_URL implies push', (t) => {
  const cfg = loadConfig({
    env: {
      GATEWAY_RELAY_URL: 'https://c.example',
      GATEWAY_RELAY_ID: 'gw-1',
      GATEWAY_RELAY_SECRET: SECRET,
      AGENT_URL: 'http://127.0.0.1:9000/hook',
      SIDECAR_LISTEN: 'unix:/tmp/rs.sock',
      GATEWAY_RELAY_ROUTE_KEYS: 'a, b,,c',
      LOG_PRETTY: '1',
    },
  });
  t.is(cfg.relay.url, 'https://c.example');
  t.is(cfg.relay.gatewayId, 'gw-1');
  t.is(cfg.relay.secret, SECRET);
  t.is(cfg.agent.mode, 'push');
  t.is(cfg.api.listen, 'unix:/tmp/rs.sock');
  t.deepEqual(cfg.relay.routeKeys, ['a', 'b', 'c']);
  t.true(cfg.log.pretty);
});

test('config file (YAML) is overridden by env', (t) => {
  const file = tmpFile(
    'c.yaml',
    'relay:\n  url: http://from-file\n  pingIntervalMs: 1234\nagent:\n  concurrency: 3\n',
  );
  const cfg = loadConfig({ env: { SIDECAR_CONFIG: file, GATEWAY_RELAY_URL: 'http://from-env' } });
  t.is(cfg.relay.url, 'http://from-env');
  t.is(cfg.relay.pingIntervalMs, 1234);
  t.is(cfg.agent.concurrency, 3);
});

test('config file (JSON) is accepted', (t) => {
  const file = tmpFile('c.json', JSON.stringify({ inbox: { maxAttempts: 9 } }));
  t.is(loadConfig({ env: {}, file }).inbox.maxAttempts, 9);
});

test('unreadable or non-object config file has its own code', (t) => {
  t.is(
    configError(() => loadConfig({ env: {}, file: '/nonexistent/x.yaml' })).code,
    'CORE_ERR_CONFIG_FILE_UNREADABLE',
  );
  t.is(
    configError(() => loadConfig({ env: {}, file: tmpFile('l.yaml', '- 1\n- 2\n') })).code,
    'CORE_ERR_CONFIG_FILE_UNREADABLE',
  );
  t.is(
    configError(() => loadConfig({ env: {}, file: tmpFile('b.yaml', 'a: [\n') })).code,
    'CORE_ERR_CONFIG_FILE_UNREADABLE',
  );
});

// YAML reads an unquoted value starting with *, & or ! as an alias, anchor or tag: a secret that
// happens to start so (an API token chosen by hand) was quoted back in the refusal, or printed
// with its whole line as a process warning on stderr, to the service's logs
for (const [what, text] of [
  ['an alias', `api:\n  token: *${SECRET}\n`],
  ['a tag', `api:\n  token: !${SECRET}\n`],
  ['a tag with a value', `relay:\n  secret: !${SECRET} and-more\n`],
  ['a verbatim tag', `api:\n  token: !<${SECRET}> x\n`],
  ['a block scalar header', `api:\n  token: |${SECRET}\n    x\n`],
] as const) {
  test(`a config file YAML cannot read never quotes a value: ${what}`, async (t) => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.message}\n${w.stack ?? ''}`);
    process.on('warning', onWarning);
    t.teardown(() => process.off('warning', onWarning));
    const err = configError(() => loadConfig({ env: {}, file: tmpFile('s.yaml', text) }));
    t.is(err.code, 'CORE_ERR_CONFIG_FILE_UNREADABLE');
    t.false(err.message.includes(SECRET), err.message);
    t.regex(err.message, / at line 2, column \d+ \([A-Z_]+\)$/);
    await new Promise((next) => setImmediate(next)); // process warnings are emitted on the next tick
    t.false(
      warnings.some((w) => w.includes(SECRET)),
      warnings.join('\n'),
    );
  });
}

test('unknown keys in the config file are rejected (strict)', (t) => {
  const file = tmpFile('u.yaml', 'relay:\n  pingIntervalMS: 5\n');
  const err = configError(() => loadConfig({ env: {}, file }));
  t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err.message, /pingIntervalMS/);
});

test('an unknown top-level key in the config file is rejected too', (t) => {
  const file = tmpFile('top.yaml', 'inbx:\n  maxAttempts: 3\n');
  const err = configError(() => loadConfig({ env: {}, file }));
  t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err.message, /inbx/);
});

test('a config file any local user may change is refused: it names the plugins, the agent URL and the data dir', (t) => {
  const file = tmpFile('w.yaml', 'agent:\n  concurrency: 4\n');
  chmodSync(file, 0o666);
  // was: loaded; anyone could point pluginsPath at a manifest of theirs, or agent.url at themselves
  const err = configError(() => loadConfig({ env: {}, file }));
  t.is(err.code, 'CORE_ERR_CONFIG_FILE_UNREADABLE');
  t.true(
    err.message.endsWith(
      `config file ${file}: ${file} is writable by every local user (mode 0666): anyone could run code as the sidecar; chmod o-w ${file}`,
    ),
    err.message,
  );
  chmodSync(file, 0o644);
  t.is(loadConfig({ env: {}, file }).agent.concurrency, 4);
});
