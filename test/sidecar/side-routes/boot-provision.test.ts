import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { bootProvision, defaultGatewayId } from '../../../sidecar/side-routes/boot-provision.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { testConfig } from '../../helpers/test-config.js';
import { closedPort, connector, scripted } from './loopback.js';

/** Test config; the side-route timeout is generous so a cold first fetch in a busy run never trips it. */
function cfgWith(relay: Record<string, unknown>) {
  return testConfig({ relay: { sideRouteTimeoutMs: 5_000, ...relay } });
}

const IDENTITY = 'identity-token-boot-777';
const TWO = [
  { platform: 'discord', botId: 'app-1' },
  { platform: 'telegram', botId: 'bot-9' },
];

async function errorCount(metrics: Metrics, code: string): Promise<number> {
  const m = await metrics.errors.get();
  return m.values.find((v) => v.labels.code === code)?.value ?? 0;
}

test('not due when a gateway id and secret are configured', async (t) => {
  const c = await connector(t);
  const sink = createLogSink();
  const cfg = cfgWith({ url: c.base, gatewayId: 'g', secret: 's', identityToken: IDENTITY });
  t.is(await bootProvision(cfg, sink.logger), undefined);
  t.is(c.routes.calls.length, 0);
});

test('not due without an identity token', async (t) => {
  const c = await connector(t);
  const cfg = cfgWith({ url: c.base });
  t.is(await bootProvision(cfg, createLogSink().logger), undefined);
  t.is(c.routes.calls.length, 0);
});

test('provisions every identity under one gateway id; the secret stays out of the logs', async (t) => {
  const c = await connector(t, { identityTokens: [IDENTITY] });
  const sink = createLogSink();
  const cfg = cfgWith({ url: c.base, identityToken: IDENTITY, identities: TWO, routeKeys: ['k1'] });
  const creds = await bootProvision(cfg, sink.logger, { hostname: 'Box.Local' });
  t.truthy(creds);
  t.is(creds?.gatewayId, 'gw-box-local');
  t.deepEqual(creds?.platforms, ['discord', 'telegram']);
  t.deepEqual(c.routes.secretsFor('gw-box-local'), [creds!.secret]);
  t.deepEqual(
    c.routes.calls.map((x) => [x.route, x.gatewayId, x.body?.platform, x.body?.botId]),
    [
      ['provision', 'gw-box-local', 'discord', 'app-1'],
      ['provision', 'gw-box-local', 'telegram', 'bot-9'],
    ],
  );
  const done = sink.withMsg('relay provisioned');
  t.is(done.length, 1);
  t.is(done[0]?.gatewayId, 'gw-box-local');
  t.false(sink.text().includes(creds!.secret));
  t.false(sink.text().includes(creds!.deliveryKey!));
  t.false(sink.text().includes(IDENTITY));
});

test('a configured gateway id without a secret is the id provisioned', async (t) => {
  const c = await connector(t);
  const cfg = cfgWith({ url: c.base, identityToken: IDENTITY, gatewayId: 'gw-set' });
  const creds = await bootProvision(cfg, createLogSink().logger);
  t.is(creds?.gatewayId, 'gw-set');
});

test('fail-soft: a connector error is logged once per platform with its code and counted, never thrown', async (t) => {
  const srv = await scripted(t, () => ({ status: 500, body: { error: 'boom' } }));
  const sink = createLogSink();
  const metrics = new Metrics();
  const cfg = cfgWith({ url: srv.base, identityToken: IDENTITY, identities: TWO });
  t.is(await bootProvision(cfg, sink.logger, { metrics }), undefined);
  const lines = sink.withCode('CORE_ERR_PROVISION_FAILED').filter((l) => l.msg === 'relay provision failed');
  t.deepEqual(
    lines.map((l) => [l.platform, l.status]),
    [
      ['discord', 500],
      ['telegram', 500],
    ],
  );
  t.is(await errorCount(metrics, 'CORE_ERR_PROVISION_FAILED'), 2);
  t.false(sink.text().includes(IDENTITY));
});

test('fail-soft: an unreachable connector or a bad URL returns undefined', async (t) => {
  const sink = createLogSink();
  const port = await closedPort();
  const cfg = cfgWith({ url: `http://127.0.0.1:${port}`, identityToken: IDENTITY });
  t.is(await bootProvision(cfg, sink.logger), undefined);
  t.is(sink.withCode('CORE_ERR_PROVISION_FAILED')[0]?.kind, 'unreachable');
  // the schema refuses such a URL at load; built by hand to show this path stays fail-soft too
  const bad = { ...cfg, relay: { ...cfg.relay, url: 'mailto:x@y' } };
  t.is(await bootProvision(bad, sink.logger), undefined);
});

test('partial failure: the platforms that succeed still come up', async (t) => {
  const srv = await scripted(t, (r) => {
    const body = JSON.parse(r.body.toString()) as { platform: string };
    return body.platform === 'discord'
      ? { status: 400, body: { error: 'unknown bot' } }
      : { status: 200, body: { secret: 'sec-telegram-000', tenant: 't', gatewayId: 'gw-x', routeKeys: [] } };
  });
  const cfg = cfgWith({ url: srv.base, identityToken: IDENTITY, identities: TWO, gatewayId: 'gw-x' });
  const creds = await bootProvision(cfg, createLogSink().logger);
  t.deepEqual(creds?.platforms, ['telegram']);
  t.is(creds?.secret, 'sec-telegram-000');
});

test('secretIssued:false everywhere: no credentials, reported with CORE_ERR_PROVISION_NO_SECRET', async (t) => {
  const srv = await scripted(t, () => ({
    status: 200,
    body: { tenant: 't', gatewayId: 'gw-x', routeKeys: [], secretIssued: false },
  }));
  const sink = createLogSink();
  const cfg = cfgWith({ url: srv.base, identityToken: IDENTITY, gatewayId: 'gw-x' });
  t.is(await bootProvision(cfg, sink.logger), undefined);
  t.is(sink.withCode('CORE_ERR_PROVISION_NO_SECRET').length, 1);
});

test('defaultGatewayId slugs the host name', (t) => {
  t.is(defaultGatewayId('My_Host.example.COM'), 'gw-my-host-example-com');
  t.is(defaultGatewayId('---'), 'gw-relay-sidecar');
});
