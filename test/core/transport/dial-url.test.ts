import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { dialUrl, httpBase, sideRouteUrl } from '../../../core/transport/dial-url.js';

/** [input, dial URL, HTTP base] */
const TABLE: readonly (readonly [string, string, string])[] = [
  // the three examples of relay-contract section 1
  ['https://c.example', 'wss://c.example/relay', 'https://c.example'],
  ['http://localhost:8080/api', 'ws://localhost:8080/api/relay', 'http://localhost:8080/api'],
  ['wss://x/relay', 'wss://x/relay', 'https://x'],
  // trimming, trailing slashes, existing /relay
  ['  https://c.example/  ', 'wss://c.example/relay', 'https://c.example'],
  ['https://c.example///', 'wss://c.example/relay', 'https://c.example'],
  ['https://c.example/relay/', 'wss://c.example/relay', 'https://c.example'],
  ['ws://127.0.0.1:9000', 'ws://127.0.0.1:9000/relay', 'http://127.0.0.1:9000'],
  ['https://c.example/myrelay', 'wss://c.example/myrelay/relay', 'https://c.example/myrelay'],
  ['https://c.example/relay/relay', 'wss://c.example/relay/relay', 'https://c.example/relay'],
  ['HTTPS://C.example/Api', 'wss://C.example/Api/relay', 'https://C.example/Api'],
  // credentials and query survive; the query stays after the path
  [
    'https://user:p%40ss@c.example:8443/api?tenant=a&x=1',
    'wss://user:p%40ss@c.example:8443/api/relay?tenant=a&x=1',
    'https://user:p%40ss@c.example:8443/api?tenant=a&x=1',
  ],
  ['http://[::1]:8080/?k=v', 'ws://[::1]:8080/relay?k=v', 'http://[::1]:8080?k=v'],
];

for (const [input, dial, base] of TABLE) {
  test(`dialUrl/httpBase: ${input.trim()}`, (t) => {
    t.is(dialUrl(input), dial);
    t.is(dialUrl(dial), dial, 'dialUrl is idempotent');
    t.is(httpBase(input), base);
    t.is(httpBase(dial), base, 'httpBase of the dial URL is the same base');
  });
}

test('httpBase removes exactly one trailing /relay and maps ws(s) to http(s)', (t) => {
  t.is(httpBase('ws://h/relay/relay/'), 'http://h/relay');
  t.is(httpBase('wss://h/a/relay'), 'https://h/a');
  t.is(httpBase('https://h/a'), 'https://h/a');
});

test('sideRouteUrl appends the route to the path, before the query', (t) => {
  t.is(sideRouteUrl('wss://c.example/relay', '/relay/enroll'), 'https://c.example/relay/enroll');
  t.is(sideRouteUrl('https://c.example/api/', 'relay/policy'), 'https://c.example/api/relay/policy');
  t.is(sideRouteUrl('https://c.example/api?t=1', '/relay/media'), 'https://c.example/api/relay/media?t=1');
});

const BAD = [
  '',
  '   ',
  'c.example',
  'ftp://c.example',
  'file:///etc/passwd',
  'https://',
  'https:///path',
  'https://c.example/#frag',
  'https://exa mple.com',
];

for (const input of BAD) {
  test(`invalid URL throws CORE_ERR_CONFIG_INVALID: ${JSON.stringify(input)}`, (t) => {
    for (const fn of [dialUrl, httpBase]) {
      const err = t.throws(() => fn(input), { instanceOf: RelayError });
      t.is(err?.code, 'CORE_ERR_CONFIG_INVALID');
      t.is(err?.details?.key, 'GATEWAY_RELAY_URL');
    }
  });
}

test('the error never echoes credentials from the URL', (t) => {
  const err = t.throws(() => dialUrl('ftp://user:hunter2@c.example'), { instanceOf: RelayError });
  t.false(err?.message.includes('hunter2'));
  t.true(err?.message.includes('GATEWAY_RELAY_URL'));
});
