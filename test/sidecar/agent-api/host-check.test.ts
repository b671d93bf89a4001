/**
 * The DNS-rebinding guard: on TCP the API answers only requests whose Host names a loopback
 * address, localhost (or *.localhost) or a name in api.allowedHosts; a unix socket is unchecked.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import test from 'ava';
import { hostAllowed, hostNameOf } from '../../../sidecar/agent-api/host-check.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startApi, TEST_TOKEN } from './api-harness.js';

/** One GET with an explicit Host header (fetch may not set it), on TCP or a unix socket. */
function get(
  target: { port: number } | { socketPath: string },
  path: string,
  host: string | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...('port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.socketPath }),
        path,
        setHost: false,
        headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(host === undefined ? {} : { host }) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('hostNameOf strips the port and IPv6 brackets, refuses what is not a host[:port]', (t) => {
  t.is(hostNameOf('127.0.0.1:7700'), '127.0.0.1');
  t.is(hostNameOf('LocalHost'), 'localhost');
  t.is(hostNameOf('[::1]:7700'), '::1');
  t.is(hostNameOf('[::1]'), '::1');
  t.is(hostNameOf('evil.example:80'), 'evil.example');
  t.is(hostNameOf(''), undefined);
  t.is(hostNameOf(':7700'), undefined);
  t.is(hostNameOf('[::1]x'), undefined);
  t.is(hostNameOf('127.0.0.1:x'), undefined);
});

test('hostAllowed: loopback names and listed names pass, others do not', (t) => {
  const none = new Set<string>();
  for (const ok of [
    undefined,
    '127.0.0.1:7700',
    '127.1.2.3',
    '[::1]:7700',
    'localhost:7700',
    'agent.localhost',
  ])
    t.true(hostAllowed(ok, none), String(ok));
  for (const bad of ['evil.example:7700', 'localhost.evil.example', '10.0.0.1:7700', '', '[::2]:7700'])
    t.false(hostAllowed(bad, none), bad);
  t.true(hostAllowed('sidecar.internal:7700', new Set(['sidecar.internal'])));
});

test('a request naming a foreign host is refused 403 host_not_allowed, public routes included', async (t) => {
  const h = await startApi(t);
  const port = Number(new URL(h.base).port);
  for (const path of ['/metrics', '/readyz', '/v1/status']) {
    const res = await get({ port }, path, 'rebind.evil.example:7700');
    t.is(res.status, 403, path);
    t.is((JSON.parse(res.body) as { error: { code: string } }).error.code, 'host_not_allowed');
  }
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_API_HOST_NOT_ALLOWED' }), 3);
  t.true(
    h.logs().some((l) => l.code === 'CORE_ERR_API_HOST_NOT_ALLOWED' && l.host === 'rebind.evil.example:7700'),
  );
  // loopback names are answered (node itself answers 400 to an HTTP/1.1 request without Host)
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
    t.is((await get({ port }, '/v1/status', host)).status, 200, String(host));
  }
});

test('api.allowedHosts admits a name of the operator’s own', async (t) => {
  const h = await startApi(t, { config: { api: { allowedHosts: ['sidecar.internal'] } } });
  const port = Number(new URL(h.base).port);
  t.is((await get({ port }, '/v1/status', 'sidecar.internal:7700')).status, 200);
  t.is((await get({ port }, '/v1/status', 'other.internal:7700')).status, 403);
});

test('on a unix socket the Host header is not checked', async (t) => {
  const socketPath = join(tempDir(t), 'api.sock');
  await startApi(t, { config: { api: { listen: `unix:${socketPath}` } } });
  t.is((await get({ socketPath }, '/v1/status', 'anything.example')).status, 200);
});
