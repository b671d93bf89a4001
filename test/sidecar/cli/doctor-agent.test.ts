/** The doctor's agent probe against real HTTP agents on loopback. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { checkAgent } from '../../../sidecar/cli/doctor-probes.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { testConfig } from '../../helpers/test-config.js';

const TLS = join(repoRoot(), 'test', 'fixtures', 'tls');
const CERT = join(TLS, 'agent-cert.pem');

async function agentAnswering(t: ExecutionContext, status: number, location?: string): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(status, location ? { location } : {}).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/relay`;
}

test('an agent URL that redirects is a warning naming the target: push does not follow it', async (t) => {
  // was: "✓ answered HTTP 308", while every delivery was then retried forever (HTTP 308)
  const url = await agentAnswering(t, 308, '/relay/?k=secret');
  const result = await checkAgent(testConfig({ agent: { mode: 'push', url } }), 1_000);
  t.like(result, { name: 'agent', status: 'warn' });
  t.true(JSON.stringify(result).includes(`a redirect to ${url}/`));
  t.regex(JSON.stringify(result), /set AGENT_URL to the target/);
  t.false(JSON.stringify(result).includes('secret'));
});

test('an agent URL answering 405 to the probe passes', async (t) => {
  const url = await agentAnswering(t, 405);
  t.like(await checkAgent(testConfig({ agent: { mode: 'push', url } }), 1_000), {
    name: 'agent',
    status: 'ok',
  });
});

/**
 * An agent routed as Express routes `app.post('/relay')`: POST there, OPTIONS there answers 200
 * with `Allow: POST`, HEAD there and anything elsewhere 404.
 */
async function expressLikeAgent(t: ExecutionContext): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/relay' && req.method === 'OPTIONS')
      return void res.writeHead(200, { allow: 'POST' }).end('POST');
    if (req.url === '/relay' && req.method === 'POST') return void res.writeHead(200).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('an agent URL whose path has no route (404 to HEAD and OPTIONS) is a warning: deliveries would be dead-lettered', async (t) => {
  const base = await expressLikeAgent(t);
  // was: "✓ answered HTTP 404", then every delivery rejected 404 and dead-lettered
  const wrong = await checkAgent(testConfig({ agent: { mode: 'push', url: `${base}/relya` } }), 1_000);
  t.like(wrong, {
    status: 'warn',
    detail: `push to ${base}/relya: answered HTTP 404 to HEAD and OPTIONS (no route at this path?)`,
  });
  t.regex(wrong.fix ?? '', /check the path of AGENT_URL/);
  // the right path: HEAD is 404 there too (a POST-only route), OPTIONS finds the route
  const right = await checkAgent(testConfig({ agent: { mode: 'push', url: `${base}/relay` } }), 1_000);
  t.like(right, { status: 'ok', detail: `push to ${base}/relay: answered HTTP 404 to HEAD, 200 to OPTIONS` });
});

/** An https agent with the self-signed test certificate (test/fixtures/tls: 127.0.0.1, to 2126). */
async function selfSignedAgent(t: ExecutionContext): Promise<string> {
  const server = createHttpsServer(
    { key: readFileSync(join(TLS, 'agent-key.pem')), cert: readFileSync(CERT) },
    (_req, res) => res.writeHead(405).end(),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/relay`;
}

test('an https agent with a self-signed certificate: the fix is NODE_EXTRA_CA_CERTS, and it works', async (t) => {
  const url = await selfSignedAgent(t);
  // was: "start the agent or correct AGENT_URL", for an agent that was up
  const refused = await checkAgent(testConfig({ agent: { mode: 'push', url } }), 2_000);
  t.like(refused, { status: 'warn', detail: `push to ${url}: not reachable (DEPTH_ZERO_SELF_SIGNED_CERT)` });
  t.regex(refused.fix ?? '', /NODE_EXTRA_CA_CERTS=/);
  // the documented fix, in a process started with it: push's HTTP client (undici) trusts it
  const probe = `import { checkAgent } from ${JSON.stringify(join(repoRoot(), 'dist/sidecar/cli/doctor-probes.js'))};
    import { testConfig } from ${JSON.stringify(join(repoRoot(), 'dist/test/helpers/test-config.js'))};
    const r = await checkAgent(testConfig({ agent: { mode: 'push', url: ${JSON.stringify(url)} } }), 2000);
    process.stdout.write(r.status);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', probe], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: CERT },
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise((resolve) => child.on('close', resolve));
  t.is(out, 'ok');
});
