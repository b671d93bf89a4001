/**
 * GATEWAY_RELAY_WAKE_URL (relay.wakeUrl) and GATEWAY_RELAY_ENDPOINT (relay.endpoint): URLs the
 * connector is given with enroll/provision and calls, refused at load when they are no absolute
 * http(s) URL, naming the variable and the form, never echoing the value (it may carry credentials).
 */
import test from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { configError } from './load-harness.js';

const KEYS = [
  ['GATEWAY_RELAY_WAKE_URL', 'relay.wakeUrl'],
  ['GATEWAY_RELAY_ENDPOINT', 'relay.endpoint'],
] as const;

for (const [variable, key] of KEYS) {
  test(`a ${variable} that is no absolute http(s) URL is refused at load, naming it, never echoing it`, (t) => {
    for (const [bad, why] of [
      ['gw.example.com/wake', /not an absolute URL/],
      ['ftp://gw.example.com/wake', /the scheme is ftp:, not http or https/],
      // WHATWG reads `admin:pw@host` as the scheme `admin:`: naming it would echo the user name
      ['admin:hunter2@gw.example.com/wake', /not an absolute URL/],
      ['https://', /not an absolute URL|no host/],
      // sent to the connector as written: its parser need not drop or encode what WHATWG does
      ['https://gw.example.com/wake?token=hunter2 x', /blank or control character/],
      [' https://gw.example.com/wake', /blank or control character/],
      ['https://gw.example.com/wa\nke', /blank or control character/],
    ] as const) {
      const err = configError(() => loadConfig({ env: { [variable]: bad } }));
      t.is(err.code, 'CORE_ERR_CONFIG_INVALID', bad);
      const line = err.message.split('\n').find((l) => l.includes(`${key} (${variable})`));
      t.truthy(line, err.message);
      t.regex(line ?? '', /must be an absolute http\(s\):\/\/ URL with a host, e\.g\. https:\/\//, bad);
      t.regex(line ?? '', why, bad);
      for (const part of ['hunter2', 'admin', 'gw.example.com']) t.false(err.message.includes(part), bad);
    }
  });

  test(`a ${variable} that is an absolute http(s) URL loads as written`, (t) => {
    for (const good of [
      'https://gw.example.com/wake',
      'http://127.0.0.1:9000/relay/wake?token=abc',
      'https://user:p%25ss@gw.example.com',
    ]) {
      const cfg = loadConfig({ env: { [variable]: good } });
      t.is(key === 'relay.wakeUrl' ? cfg.relay.wakeUrl : cfg.relay.endpoint, good);
    }
  });
}

test('a bad relay.wakeUrl in the config file is refused naming the key', (t) => {
  const err = configError(() => loadConfig({ env: {}, base: { relay: { wakeUrl: 'wake-me' } } }));
  t.regex(err.message, /relay\.wakeUrl \(GATEWAY_RELAY_WAKE_URL\): must be an absolute http\(s\):\/\//);
  t.false(err.message.includes('wake-me'));
});
