/**
 * loadConfig's checks of single values: each refused value names its key and variable and the accepted
 * form, never a secret or credentials: connector and agent URLs, LOG_PRETTY words, SIDECAR_LISTEN, push
 * mode without AGENT_URL, durations, and counts with their bounds.
 */
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { isAuthorized } from '../../../sidecar/agent-api/auth.js';
import { configError, tmpFile } from './load-harness.js';

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

for (const [label, token, carried] of [
  ['with spaces', 'correct horse battery staple', false],
  ['blanks around a word', `  ${'a'.repeat(20)}  `, false],
  ['with a trailing blank', `${'a'.repeat(20)} `, false],
  // a UTF-8 client sends other bytes than the latin1 the server reads headers as
  ['non-ASCII', 'tökentökentökentöken', true],
] as const) {
  test(`SIDECAR_API_TOKEN ${label} is refused at load, as in the api-token file`, (t) => {
    // was: accepted, then every agent request was 401 (a bearer is one run of printable ASCII)
    t.is(isAuthorized(`Bearer ${token}`, token), carried);
    const err = configError(() => loadConfig({ env: { SIDECAR_API_TOKEN: token } }));
    t.is(err.code, 'CORE_ERR_CONFIG_INVALID');
    t.regex(err.message, /api\.token \(SIDECAR_API_TOKEN\): must be printable ASCII without spaces/);
    t.false(err.message.includes(token.trim() || '\u0000'), 'the value is never echoed');
  });
}

test('SIDECAR_API_TOKEN of printable ASCII loads and authorizes', (t) => {
  const token = 'Ab0-._~+/=!#$%&*?@[]^{|}0123456789';
  t.is(loadConfig({ env: { SIDECAR_API_TOKEN: token } }).api.token, token);
  t.true(isAuthorized(`Bearer ${token}`, token));
});
