import test from 'ava';
import { verifyToken } from '../../../core/transport/auth-token.js';
import { isDefaultPolicy, postPolicies } from '../../../sidecar/side-routes/policy.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { testConfig } from '../../helpers/test-config.js';
import { connector, scripted } from './loopback.js';

/** Test config; the side-route timeout is generous so a cold first fetch in a busy run never trips it. */
function cfgWith(relay: Record<string, unknown>) {
  return testConfig({ relay: { sideRouteTimeoutMs: 5_000, ...relay } });
}

const SECRET = 'policy-secret-0123456789abcdef';
const NOW_MS = 1_754_700_000_000;
const CUSTOM = {
  platform: 'discord',
  requireAddress: false,
  freeResponseScopes: ['chan-1'],
  allowOtherBots: true,
};

test('isDefaultPolicy: mention-gated, no free scopes, no bots', (t) => {
  t.true(
    isDefaultPolicy({ platform: 'x', requireAddress: true, freeResponseScopes: [], allowOtherBots: false }),
  );
  t.false(
    isDefaultPolicy({ platform: 'x', requireAddress: false, freeResponseScopes: [], allowOtherBots: false }),
  );
  t.false(
    isDefaultPolicy({
      platform: 'x',
      requireAddress: true,
      freeResponseScopes: ['c'],
      allowOtherBots: false,
    }),
  );
  t.false(
    isDefaultPolicy({ platform: 'x', requireAddress: true, freeResponseScopes: [], allowOtherBots: true }),
  );
});

test('all-default policies send nothing', async (t) => {
  const srv = await scripted(t, () => ({ status: 200 }));
  const cfg = cfgWith({
    url: srv.base,
    gatewayId: 'g',
    secret: SECRET,
    policies: [{ platform: 'discord' }, { platform: 'slack' }],
  });
  t.deepEqual(await postPolicies(cfg, createLogSink().logger, NOW_MS), { sent: 0, failed: 0, skipped: 2 });
  t.is(srv.seen.length, 0);
});

test('sends each non-default policy with a fresh upgrade token the connector verifies', async (t) => {
  const c = await connector(t, {
    secretFor: (gid) => (gid === 'gw-1' ? SECRET : undefined),
    nowS: () => NOW_MS / 1000,
  });
  const sink = createLogSink();
  const cfg = cfgWith({
    url: c.base,
    gatewayId: 'gw-1',
    secret: SECRET,
    policies: [CUSTOM, { platform: 'slack' }],
  });
  t.deepEqual(await postPolicies(cfg, sink.logger, NOW_MS), { sent: 1, failed: 0, skipped: 1 });
  t.deepEqual(c.routes.policies.get('gw-1:discord'), CUSTOM);
  t.is(sink.withMsg('relay policy declared').length, 1);
  t.false(sink.text().includes(SECRET));
});

test('the bearer is an upgrade token for the gateway id with the configured ttl', async (t) => {
  const srv = await scripted(t, () => ({ status: 200, body: { ok: true } }));
  const cfg = cfgWith({
    url: srv.base,
    gatewayId: 'gw-1',
    secret: SECRET,
    policies: [CUSTOM],
    tokenTtlS: 120,
  });
  await postPolicies(cfg, createLogSink().logger, NOW_MS);
  const token = String(srv.seen[0]?.headers.authorization).replace(/^Bearer /, '');
  const v = verifyToken(token, [SECRET], NOW_MS / 1000);
  t.true(v.ok);
  if (v.ok) {
    t.is(v.payload, 'gw-1');
    t.is(v.exp, NOW_MS / 1000 + 120);
  }
  t.is(srv.seen[0]?.path, '/relay/policy');
  t.deepEqual(JSON.parse(srv.seen[0]!.body.toString()), CUSTOM);
});

test('provisioned credentials can sign instead of configured ones', async (t) => {
  const c = await connector(t, { secretFor: () => 'prov-secret-xyz', nowS: () => NOW_MS / 1000 });
  const cfg = cfgWith({ url: c.base, policies: [CUSTOM] });
  const out = await postPolicies(cfg, createLogSink().logger, NOW_MS, {
    creds: { gatewayId: 'gw-prov', secret: 'prov-secret-xyz' },
  });
  t.is(out.sent, 1);
  t.truthy(c.routes.policies.get('gw-prov:discord'));
});

test('fail-soft: a refused policy is logged with its code, the next one still goes out', async (t) => {
  const srv = await scripted(t, (r) =>
    (JSON.parse(r.body.toString()) as { platform: string }).platform === 'discord'
      ? { status: 500, body: { error: 'nope' } }
      : { status: 200 },
  );
  const sink = createLogSink();
  const cfg = cfgWith({
    url: srv.base,
    gatewayId: 'g',
    secret: SECRET,
    policies: [CUSTOM, { ...CUSTOM, platform: 'slack' }],
  });
  t.deepEqual(await postPolicies(cfg, sink.logger, NOW_MS), { sent: 1, failed: 1, skipped: 0 });
  const failed = sink.withCode('CORE_ERR_POLICY_FAILED');
  t.is(failed.length, 1);
  t.is(failed[0]?.platform, 'discord');
  t.is(failed[0]?.status, 500);
  t.false(sink.text().includes(String(srv.seen[0]?.headers.authorization).slice(7)));
});

test('a wrong secret is refused by the connector (401) and reported, not thrown', async (t) => {
  const c = await connector(t, { secretFor: () => 'the-real-secret', nowS: () => NOW_MS / 1000 });
  const sink = createLogSink();
  const cfg = cfgWith({ url: c.base, gatewayId: 'g', secret: 'a-wrong-secret', policies: [CUSTOM] });
  t.deepEqual(await postPolicies(cfg, sink.logger, NOW_MS), { sent: 0, failed: 1, skipped: 0 });
  t.is(sink.withCode('CORE_ERR_POLICY_FAILED')[0]?.status, 401);
});

test('without credentials nothing is sent and the failure is reported', async (t) => {
  const srv = await scripted(t, () => ({ status: 200 }));
  const sink = createLogSink();
  const cfg = cfgWith({ url: srv.base, policies: [CUSTOM] });
  t.deepEqual(await postPolicies(cfg, sink.logger, NOW_MS), { sent: 0, failed: 1, skipped: 0 });
  t.is(srv.seen.length, 0);
  t.is(sink.withCode('CORE_ERR_POLICY_FAILED').length, 1);
});
