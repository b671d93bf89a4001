import test from 'ava';
import { systemClock } from '../../../core/di/clock.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { verifyToken } from '../../../core/transport/auth-token.js';
import { redactUrl } from '../../../core/transport/dial-url.js';
import { defaultSocketFactory } from '../../../core/transport/relay-client.js';
import { SessionDialer } from '../../../core/transport/session-dialer.js';
import { scrubUrls } from '../../../core/transport/socket-session.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { testConfig } from '../../helpers/test-config.js';

function dialer(relay: Record<string, unknown>, now = () => 1_700_000_000_000) {
  const sink = createLogSink();
  const config = testConfig({ relay });
  const d = new SessionDialer({
    relay: config.relay,
    url: 'ws://127.0.0.1:1/relay',
    log: sink.logger,
    metrics: new Metrics(),
    clock: { ...systemClock, now },
    socketFactory: defaultSocketFactory,
  });
  return { d, sink };
}

test('with id and secret every call mints a token from the clock, ttl from config', (t) => {
  let now = 1_700_000_000_000;
  const { d } = dialer({ gatewayId: 'gw:with:colons', secret: 'k', tokenTtlS: 120 }, () => now);
  const first = d.headers().Authorization ?? '';
  now += 5_000;
  const second = d.headers().Authorization ?? '';
  t.regex(first, /^Bearer [A-Za-z0-9_-]+$/);
  t.not(first, second);
  const v = verifyToken(second.slice('Bearer '.length), ['k'], now / 1000);
  t.true(v.ok);
  if (v.ok) {
    t.is(v.payload, 'gw:with:colons');
    t.is(v.exp, Math.floor(now / 1000) + 120);
  }
});

test('without a secret: no header, and the warning is logged once', (t) => {
  const { d, sink } = dialer({ gatewayId: 'gw' });
  t.deepEqual(d.headers(), {});
  t.deepEqual(d.headers(), {});
  t.is(sink.withCode('CORE_ERR_TRANSPORT_UNAUTHENTICATED').length, 1);
});

test('the unauthenticated-dial line names the missing variable, never a value', (t) => {
  // was: 'dialing without authentication' alone, so an operator whose secret fetch came back
  // empty could not tell which of the two was missing
  const noSecret = dialer({ gatewayId: 'gw-7f3a' });
  noSecret.d.headers();
  const [line] = noSecret.sink.withCode('CORE_ERR_TRANSPORT_UNAUTHENTICATED');
  t.deepEqual(line?.missing, ['GATEWAY_RELAY_SECRET']);
  t.false(JSON.stringify(line).includes('gw-7f3a'));
  const noId = dialer({ secret: 's3cret-value' });
  noId.d.headers();
  const [idLine] = noId.sink.withCode('CORE_ERR_TRANSPORT_UNAUTHENTICATED');
  t.deepEqual(idLine?.missing, ['GATEWAY_RELAY_ID']);
  t.false(JSON.stringify(idLine).includes('s3cret-value'));
  const neither = dialer({});
  neither.d.headers();
  t.deepEqual(neither.sink.withCode('CORE_ERR_TRANSPORT_UNAUTHENTICATED')[0]?.missing, [
    'GATEWAY_RELAY_ID',
    'GATEWAY_RELAY_SECRET',
  ]);
});

test('redactUrl drops credentials and query', (t) => {
  t.is(redactUrl('wss://user:pw@c.example:8443/base/relay?key=abc'), 'wss://c.example:8443/base/relay');
  t.is(redactUrl('not a url'), '[unparseable]');
});

test('error text logged for a dial never carries a URL', (t) => {
  t.is(
    scrubUrls('Invalid URL: wss://gw:s3cret@host/relay?token=abc (bad port)'),
    'Invalid URL: [url] (bad port)',
  );
  t.is(scrubUrls(undefined), '');
});
