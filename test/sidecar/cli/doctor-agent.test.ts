/** The doctor's agent probe against real HTTP agents on loopback. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { checkAgent } from '../../../sidecar/cli/doctor-probes.js';
import { testConfig } from '../../helpers/test-config.js';

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
