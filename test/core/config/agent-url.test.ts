/** AGENT_URL's credentials: refused at load when push could not send them, never echoed. */
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';

test('an AGENT_URL whose password holds a bare % is refused at load, naming the key and the fix', (t) => {
  // was: accepted here, then the start failed as CORE_ERR_STORE_OPEN_FAILED "URI malformed"
  const err = t.throws(() => loadConfig({ env: { AGENT_URL: 'http://agent:p%ss@127.0.0.1:9000/relay' } }));
  t.true(err instanceof RelayError);
  t.is((err as RelayError).code, 'CORE_ERR_CONFIG_INVALID');
  t.regex(
    err?.message ?? '',
    /agent\.url \(AGENT_URL\): its user or password holds a % .*write a literal % as %25/,
  );
  t.false(err?.message.includes('p%ss'));
});

test('an AGENT_URL with an escaped % in its password loads', (t) => {
  const url = 'http://agent:p%25ss@127.0.0.1:9000/relay';
  t.is(loadConfig({ env: { AGENT_URL: url } }).agent.url, url);
});

test('an AGENT_URL without its scheme written out is refused without naming a part of it', (t) => {
  // WHATWG reads `admin:pw@host` as the scheme `admin:`, which the message named
  for (const url of ['admin:hunter2@127.0.0.1:9000/relay', 'http:127.0.0.1:9000/relay']) {
    const err = t.throws(() => loadConfig({ env: { AGENT_URL: url } }));
    t.regex(
      err?.message ?? '',
      /agent\.url \(AGENT_URL\): must be an absolute http\(s\):\/\/ URL .*\(not an absolute URL\)/,
    );
    t.false(err?.message.includes('admin'));
  }
});

test('a scheme other than a well-known one is not named: it may be a credential, or any length', (t) => {
  // the rule named any scheme written out with `://`: a token pasted before it, or 5000 characters
  const long = `x${'y'.repeat(5_000)}`;
  for (const [name, url] of [
    ['AGENT_URL', 'hunter2token://127.0.0.1:9000/relay'],
    ['GATEWAY_RELAY_WAKE_URL', 'hunter2token://gw.example/wake'],
    ['GATEWAY_RELAY_ENDPOINT', `${long}://gw.example/relay`],
  ] as const) {
    const err = t.throws(() => loadConfig({ env: { [name]: url } }));
    t.is((err as RelayError).code, 'CORE_ERR_CONFIG_INVALID');
    t.regex(err?.message ?? '', /\(its scheme is not http or https\)/, name);
    t.false(err?.message.includes('hunter2'), name);
    t.false(err?.message.includes('yyyy'), name);
  }
  // a well-known one is still named: it says what was mistaken
  const ws = t.throws(() => loadConfig({ env: { GATEWAY_RELAY_WAKE_URL: 'wss://gw.example/wake' } }));
  t.regex(ws?.message ?? '', /\(the scheme is wss:, not http or https\)/);
});
