import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { type ProvisionInput, provision } from '../../../sidecar/side-routes/provision.js';
import { connector, scripted } from './loopback.js';

const IDENTITY = 'identity-token-provision-42';

function input(base: string, extra: Partial<ProvisionInput> = {}): ProvisionInput {
  return {
    base,
    identityToken: IDENTITY,
    gatewayId: 'gw-p',
    platform: 'discord',
    botId: 'app-1',
    gatewayEndpoint: '',
    routeKeys: ['guild-1'],
    timeoutMs: 2_000,
    ...extra,
  };
}

test('provisions against the dev connector side routes', async (t) => {
  const c = await connector(t, { identityTokens: [IDENTITY] });
  const res = await provision(input(c.base, { instanceId: 'inst-1', wakeUrl: 'https://wake.example' }));
  t.is(res.gatewayId, 'gw-p');
  t.is(res.tenant, 'dev-tenant');
  t.regex(res.secret ?? '', /^[0-9a-f]{64}$/);
  t.deepEqual(res.routeKeys, ['guild-1']);
  t.deepEqual(c.routes.calls[0]?.body, {
    gatewayId: 'gw-p',
    platform: 'discord',
    botId: 'app-1',
    gatewayEndpoint: '',
    routeKeys: ['guild-1'],
    instanceId: 'inst-1',
    wakeUrl: 'https://wake.example',
  });
});

test('optional keys are omitted, not sent empty', async (t) => {
  const srv = await scripted(t, () => ({
    status: 200,
    body: { secret: 'abc', tenant: 't', gatewayId: 'gw-p' },
  }));
  await provision(input(srv.base));
  const body = JSON.parse(srv.seen[0]!.body.toString()) as Record<string, unknown>;
  t.false('instanceId' in body);
  t.false('wakeUrl' in body);
  t.is(srv.seen[0]?.headers.authorization, `Bearer ${IDENTITY}`);
});

test('secretIssued:false is a value: no secret, no error', async (t) => {
  const srv = await scripted(t, () => ({
    status: 200,
    body: { tenant: 't', gatewayId: 'gw-p', routeKeys: [], secretIssued: false },
  }));
  const res = await provision(input(srv.base));
  t.is(res.secret, undefined);
  t.is(res.secretIssued, false);
});

for (const body of [
  { tenant: 't', gatewayId: 'gw-p' },
  { tenant: 't', gatewayId: 'gw-p', secretIssued: true },
]) {
  test(`no secret and no secretIssued:false is an error: ${JSON.stringify(body)}`, async (t) => {
    const srv = await scripted(t, () => ({ status: 200, body }));
    const err = await t.throwsAsync(provision(input(srv.base)));
    t.true(err instanceof RelayError);
    t.is((err as RelayError).code, 'CORE_ERR_PROVISION_FAILED');
    t.is((err as RelayError).details?.kind, 'bad-response');
  });
}

test('401 and other statuses fail with details.status and never echo the identity token', async (t) => {
  const c = await connector(t, { identityTokens: ['someone-else'] });
  const e401 = (await t.throwsAsync(provision(input(c.base)))) as RelayError;
  t.is(e401.code, 'CORE_ERR_PROVISION_FAILED');
  t.is(e401.details?.status, 401);
  const srv = await scripted(t, () => ({ status: 409, body: { error: `conflict ${IDENTITY}` } }));
  const e409 = (await t.throwsAsync(provision(input(srv.base)))) as RelayError;
  t.is(e409.details?.status, 409);
  t.false(e409.message.includes(IDENTITY));
});
