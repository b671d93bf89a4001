import test from 'ava';
import { WebSocket } from 'ws';
import { upgradeToken } from '../../../core/transport/auth-token.js';
import { dialUrl } from '../../../core/transport/dial-url.js';
import { DevConnector } from '../../../sidecar/dev-connector/dev-connector.js';
import type { UpgradeRecord } from '../../../sidecar/dev-connector/options.js';
import { createSideRoutes } from '../../../sidecar/dev-connector/side-routes.js';
import { enroll } from '../../../sidecar/side-routes/enroll.js';

test('mounted on the dev connector: an enrolled secret authenticates the WebSocket dial', async (t) => {
  let dc: DevConnector | undefined;
  const routes = createSideRoutes({
    enrollmentTokens: ['tok'],
    // Issued secrets join the connector's rotation list, as a real connector's store would.
    onIssue: (_gid, secret) => dc?.setSecrets([secret]),
  });
  dc = await DevConnector.start({ sideRoutes: routes.handler, secrets: ['bootstrap-secret'] });
  t.teardown(() => dc?.close());

  const creds = await enroll({
    base: dc.url,
    identityToken: 'id',
    enrollmentToken: 'tok',
    gatewayId: 'gw-dev',
    timeoutMs: 5_000,
  });
  const upgraded = new Promise<UpgradeRecord>((resolve) => dc?.onUpgrade(resolve));
  const ws = new WebSocket(dialUrl(dc.url), {
    headers: { authorization: `Bearer ${upgradeToken('gw-dev', creds.secret, Date.now())}` },
  });
  ws.on('error', () => {});
  t.teardown(() => ws.terminate());
  const rec = await upgraded;
  t.true(rec.authorized);
  t.is(rec.gatewayId, 'gw-dev');
});
