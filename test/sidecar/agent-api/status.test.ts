import test from 'ava';
import { type Clock, systemClock } from '../../../core/di/clock.js';
import { definePlugin } from '../../../core/index.js';
import type { RelayState } from '../../../sidecar/agent-api/deps.js';
import { publicPluginInfo } from '../../../sidecar/agent-api/status.js';
import { escapeHtml } from '../../../sidecar/agent-api/status-page.js';
import { AGENT_DOWN_SINCE, descriptor, startApi, TEST_TOKEN } from './api-harness.js';

const RELAY_SECRET = 'relay-secret-value-do-not-leak';

test('/v1/status has exactly the documented shape and no secret', async (t) => {
  const h = await startApi(t, {
    config: {
      relay: {
        gatewayId: 'gw-1',
        secret: RELAY_SECRET,
        identities: [{ platform: 'discord', botId: 'B1' }, { platform: 'slack' }],
      },
    },
    plugins: [definePlugin({ name: 'noop', version: '1.2.3' })],
  });
  h.metrics.framesIn.inc({ type: 'inbound' }, 3);
  h.metrics.framesIn.inc({ type: 'descriptor' });
  const res = await h.call('/v1/status');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^application\/json/);
  t.is(res.headers.get('cache-control'), 'no-store');
  const text = await res.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  t.deepEqual(Object.keys(body).sort(), [
    'agent',
    'counters',
    'descriptors',
    'gateway_id',
    'identities',
    'inbox',
    'plugins',
    'pool',
    'state',
    'uptime_s',
  ]);
  t.is(body.state, 'ready');
  t.is(body.gateway_id, 'gw-1');
  t.deepEqual(body.identities, [
    { platform: 'discord', botId: 'B1' },
    { platform: 'slack', botId: '' },
  ]);
  t.deepEqual(Object.keys(body.descriptors as object), ['discord']);
  t.true(Number.isInteger(body.uptime_s));
  // the inbox's view of the push agent is the body's own key, not an inbox figure
  t.deepEqual(body.agent, {
    reachable: false,
    unreachable_since: AGENT_DOWN_SINCE,
    reason: 'HTTP 503',
    failed_probes: 2,
  });
  t.deepEqual(body.inbox, {
    pending: 2,
    oldest_age_s: 7,
    inflight: 1,
    delivered: 5,
    dead: 0,
    dead_letters: [],
  });
  t.deepEqual(body.plugins, [{ name: 'noop', version: '1.2.3', enabled: true }]);
  t.deepEqual(body.pool, { threads: 1, queued: 0, completed: 0, failed: 0 });
  const counters = body.counters as Record<string, number>;
  t.is(counters.frames_in, 4);
  t.is(counters.frames_out, 0);
  for (const v of Object.values(counters)) t.true(Number.isFinite(v));
  t.false(text.includes(RELAY_SECRET));
  t.false(text.includes(TEST_TOKEN));
});

test('plugin info in the status drops options and credential-named keys', (t) => {
  const info = publicPluginInfo({
    name: 'p',
    version: '1',
    enabled: true,
    options: { apiKey: 'k' },
    authToken: 't',
    hooks: { outbound: ['send'], secret: 's' },
    platforms: ['discord'],
    fn: () => 1,
  });
  t.deepEqual(info, {
    name: 'p',
    version: '1',
    enabled: true,
    hooks: { outbound: ['send'] },
    platforms: ['discord'],
  });
});

const STATES: [RelayState, number][] = [
  ['ready', 200],
  ['connecting', 503],
  ['reconnecting', 503],
  ['idle', 503],
  ['revoked', 503],
  ['stopped', 503],
];
for (const [state, status] of STATES) {
  test(`/readyz in state ${state} ⇒ ${status} with the state`, async (t) => {
    const h = await startApi(t);
    h.client.state = state;
    const res = await fetch(`${h.base}/readyz`);
    t.is(res.status, status);
    t.deepEqual(await res.json(), { state });
  });
}

test('/readyz answers 503 with pool: failing while no plugin worker runs or can start', async (t) => {
  const h = await startApi(t);
  h.client.state = 'ready';
  h.host.startFailing = true;
  const failing = await fetch(`${h.base}/readyz`);
  t.is(failing.status, 503);
  t.deepEqual(await failing.json(), { state: 'ready', pool: 'failing' });
  h.host.startFailing = false;
  const ready = await fetch(`${h.base}/readyz`);
  t.is(ready.status, 200);
  t.deepEqual(await ready.json(), { state: 'ready' });
});

test('/healthz answers 200 whatever the relay state', async (t) => {
  const h = await startApi(t);
  h.client.state = 'revoked';
  const res = await fetch(`${h.base}/healthz`);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { status: 'ok' });
});

test('/metrics serves the registry as Prometheus text', async (t) => {
  const h = await startApi(t);
  h.metrics.reconnects.inc(2);
  const res = await fetch(`${h.base}/metrics`);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), h.metrics.registry.contentType);
  const text = await res.text();
  t.regex(text, /^# HELP relay_reconnects_total /m);
  t.regex(text, /^relay_reconnects_total 2$/m);
});

test('the status page escapes every value that comes from outside', async (t) => {
  const h = await startApi(t, { plugins: [definePlugin({ name: '<img src=x onerror=alert(1)>' })] });
  const d = descriptor('discord');
  h.client.descriptorMap.set('discord', { ...d, label: '<script>alert("x")</script>' });
  const res = await h.call('/');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const html = await res.text();
  t.false(html.includes('<script>'));
  t.false(html.includes('<img'));
  t.true(html.includes('&lt;script&gt;'));
  t.regex(html, /<meta http-equiv="refresh" content="\d+">/);
  t.true(html.includes('ready'));
  // the push agent's reachability has its own table
  t.regex(html, /<h2>Agent<\/h2><table><tr><th>reachable<\/th><td>false<\/td>/);
  t.true(html.includes('<th>reason</th><td>HTTP 503</td>'));
});

test('escapeHtml escapes the five HTML metacharacters', (t) => {
  t.is(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  );
  t.is(escapeHtml({ k: '<' }), '{&quot;k&quot;:&quot;&lt;&quot;}');
});

test('/v1/status uptime counts elapsed time: a wall clock set forward a day adds nothing to it', async (t) => {
  let offset = 0;
  const clock: Clock = {
    now: () => Date.now() + offset,
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
  };
  const h = await startApi(t, { deps: { clock } });
  offset = 24 * 3_600_000;
  const body = (await (await h.call('/v1/status')).json()) as { uptime_s: number };
  t.true(body.uptime_s < 600, `uptime ${body.uptime_s} s for an API started moments ago`);
});
