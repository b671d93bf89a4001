import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';

const SECRET = 'super-secret-value-xyz';

function tmpFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs-config-'));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

function configError(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelayError) return err;
    throw err;
  }
  throw new Error('expected a RelayError');
}

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

test('bad values name the key and the env variable, never the secret value', (t) => {
  const err = configError(() =>
    loadConfig({ env: { AGENT_MODE: 'carrier-pigeon', SIDECAR_API_TOKEN: 'short', LOG_LEVEL: 'loud' } }),
  );
  t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err.message, /agent\.mode \(AGENT_MODE\)/);
  t.regex(err.message, /api\.token \(SIDECAR_API_TOKEN\)/);
  t.regex(err.message, /log\.level \(LOG_LEVEL\)/);
  t.false(err.message.includes('short'));
});

for (const url of ['relay.example.com', 'notaurl', 'ftp://x', 'https://', 'https://c.example/#frag']) {
  test(`a bad GATEWAY_RELAY_URL is refused at load, naming the key and the accepted form: ${url}`, (t) => {
    const err = configError(() => loadConfig({ env: { GATEWAY_RELAY_URL: url } }));
    t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
    t.regex(err.message, /relay\.url \(GATEWAY_RELAY_URL\): must be .*http\(s\):\/\/ or ws\(s\):\/\//);
  });
}

test('a bad relay.url in the config file is refused at load, without echoing credentials', (t) => {
  const file = tmpFile('u.yaml', 'relay:\n  url: ftp://user:hunter2@c.example\n');
  const err = configError(() => loadConfig({ env: {}, file }));
  t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err.message, /relay\.url/);
  t.false(err.message.includes('hunter2'));
});

test('http(s) and ws(s) connector URLs load unchanged (normalised only when dialing)', (t) => {
  for (const url of ['https://c.example', 'http://localhost:8080/api', 'wss://x/relay', 'ws://127.0.0.1:9']) {
    t.is(loadConfig({ env: { GATEWAY_RELAY_URL: url } }).relay.url, url);
  }
});

test('LOG_PRETTY: the documented words turn pretty logs on or off, in any case', (t) => {
  for (const word of ['1', 'true', 'YES', ' on '])
    t.true(loadConfig({ env: { LOG_PRETTY: word } }).log.pretty, word);
  for (const word of ['0', 'false', 'No', 'off'])
    t.false(loadConfig({ env: { LOG_PRETTY: word } }).log.pretty, word);
  t.false(loadConfig({ env: {} }).log.pretty);
});

for (const word of ['maybe', '2', 'enabled']) {
  test(`LOG_PRETTY=${word} is refused naming the key and the accepted words`, (t) => {
    const err = configError(() => loadConfig({ env: { LOG_PRETTY: word } }));
    t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
    t.regex(err.message, /log\.pretty \(LOG_PRETTY\): .*1, true, yes or on.*0, false, no or off/);
  });
}

test('unknown keys in the config file are rejected (strict)', (t) => {
  const file = tmpFile('u.yaml', 'relay:\n  pingIntervalMS: 5\n');
  const err = configError(() => loadConfig({ env: {}, file }));
  t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err.message, /pingIntervalMS/);
});

test('push mode without AGENT_URL is refused with a fix', (t) => {
  const err = configError(() => loadConfig({ env: { AGENT_MODE: 'push' } }));
  t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err.message, /AGENT_URL/);
});

test('negative and fractional durations are refused', (t) => {
  const file = tmpFile('n.yaml', 'relay:\n  pongTimeoutMs: -1\n  outboundTimeoutMs: 1.5\n');
  const err = configError(() => loadConfig({ env: {}, file }));
  t.regex(err.message, /relay\.pongTimeoutMs/);
  t.regex(err.message, /relay\.outboundTimeoutMs/);
});

for (const [listen, why] of [
  ['127.0.0.1:99999', /port must be an integer 0-65535/],
  ['localhost', /missing host or port/],
  ['http://127.0.0.1:7700', /without a scheme/],
] as const) {
  test(`SIDECAR_LISTEN=${listen} is refused at load, naming the key and the accepted form`, (t) => {
    // was: accepted here and refused only when the API bound, after the data dir and token were made
    const err = configError(() => loadConfig({ env: { SIDECAR_LISTEN: listen } }));
    t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
    t.regex(
      err.message,
      /api\.listen \(SIDECAR_LISTEN\): .*expected host:port, \[ipv6\]:port or unix:\/path/,
    );
    t.regex(err.message, why);
  });
}

for (const url of ['localhost:9000/relay', 'ftp://127.0.0.1/relay', 'http://', 'file:///tmp/agent']) {
  test(`AGENT_URL=${url} is refused at load, naming the key and the accepted form`, (t) => {
    // was: accepted here, then the start failed as CORE_ERR_STORE_OPEN_FAILED "cannot open the inbox"
    const err = configError(() => loadConfig({ env: { AGENT_URL: url } }));
    t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
    t.regex(err.message, /agent\.url \(AGENT_URL\): must be an absolute http\(s\):\/\/ URL with a host/);
  });
}

test('an AGENT_URL with credentials loads; a refused one never echoes them', (t) => {
  const url = 'https://agent:hunter2@127.0.0.1:9000/relay?key=abc';
  t.is(loadConfig({ env: { AGENT_URL: url } }).agent.url, url);
  const err = configError(() => loadConfig({ env: { AGENT_URL: 'ftp://agent:hunter2@127.0.0.1/relay' } }));
  t.false(err.message.includes('hunter2'));
});

test('an unknown top-level key in the config file is rejected too', (t) => {
  const file = tmpFile('top.yaml', 'inbx:\n  maxAttempts: 3\n');
  const err = configError(() => loadConfig({ env: {}, file }));
  t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(err.message, /inbx/);
});

test('counts must be positive integers; bounded keys refuse values past their bound', (t) => {
  const file = tmpFile(
    'c.yaml',
    [
      'relay:\n  maxPayloadBytes: 0',
      'agent:\n  maxRejections: 0',
      'pool:\n  maxQueue: -1',
      'inbox:\n  maxAttempts: 0\n  groupCommitMs: 1001',
    ].join('\n'),
  );
  const err = configError(() => loadConfig({ env: {}, file }));
  for (const key of [
    'relay.maxPayloadBytes',
    'agent.maxRejections',
    'pool.maxQueue',
    'inbox.maxAttempts',
    'inbox.groupCommitMs',
  ]) {
    t.regex(err.message, new RegExp(key.replace('.', '\\.')), key);
  }
  const edge = tmpFile('e.yaml', 'inbox:\n  maxAttempts: 1\n  groupCommitMs: 1000\n');
  t.like(loadConfig({ env: {}, file: edge }).inbox, { maxAttempts: 1, groupCommitMs: 1000 });
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
