/**
 * The `doctor` command's agent check in push mode against real HTTP agents on loopback: reachable or only
 * a warning, an AGENT_URL with credentials probed with them (never printed), and an agent on a port
 * fetch() refuses.
 */
import { createServer } from 'node:http';
import test from 'ava';
import { ExitCode } from '../../../sidecar/cli/exit-codes.js';
import { listenOnFetchBadPort } from '../../helpers/bad-port.js';
import { closedPort } from '../side-routes/loopback.js';
import { devConnector, doctor, doctorIo } from './doctor-harness.js';

test('push mode: a reachable agent passes, an unreachable one is only a warning', async (t) => {
  const dc = await devConnector(t);
  const agent = createServer((_req, res) => res.writeHead(405).end());
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => agent.close(() => resolve())));
  const port = (agent.address() as { port: number }).port;
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, AGENT_URL: `http://127.0.0.1:${port}/hook` });
  const r = await doctor(t, io);
  t.regex(
    r.found.get('agent')!.line,
    /^✓ agent — push to http:\/\/127\.0\.0\.1:\d+\/hook: answered HTTP 405$/,
  );

  const io2 = doctorIo(t, {
    GATEWAY_RELAY_URL: dc.url,
    AGENT_URL: `http://127.0.0.1:${await closedPort()}/hook`,
  });
  const r2 = await doctor(t, io2);
  t.is(r2.code, ExitCode.OK, io2.out);
  t.is(r2.mark('agent'), '!');
});

test('push mode: an AGENT_URL with credentials is probed with them, never printing them', async (t) => {
  const dc = await devConnector(t);
  const seen: (string | undefined)[] = [];
  const agent = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(405).end();
  });
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => agent.close(() => resolve())));
  const port = (agent.address() as { port: number }).port;
  const io = doctorIo(t, {
    GATEWAY_RELAY_URL: dc.url,
    AGENT_URL: `http://hook:pw-9f3e@127.0.0.1:${port}/hook?key=q-7c1d`,
  });
  const r = await doctor(t, io);
  // was: "! agent — … not reachable (TypeError)": fetch refuses a URL with credentials, which push
  // delivery sends as Basic auth
  t.regex(
    r.found.get('agent')!.line,
    /^✓ agent — push to http:\/\/127\.0\.0\.1:\d+\/hook: answered HTTP 405$/,
  );
  t.deepEqual(seen, [`Basic ${Buffer.from('hook:pw-9f3e').toString('base64')}`]);
  t.false(io.out.includes('pw-9f3e'));
  t.false(io.out.includes('q-7c1d'));
});

test('push mode: an agent on a port fetch() refuses (6000, 10080, …) is probed as push delivery reaches it', async (t) => {
  const dc = await devConnector(t);
  const agent = createServer((_req, res) => res.writeHead(405).end());
  // ports on the fetch standard's "bad ports" list; push delivery's HTTP client has no such list
  const port = await listenOnFetchBadPort(agent);
  t.teardown(() => new Promise<void>((resolve) => agent.close(() => resolve())));
  const io = doctorIo(t, { GATEWAY_RELAY_URL: dc.url, AGENT_URL: `http://127.0.0.1:${port}/hook` });
  const r = await doctor(t, io);
  // was: "! agent — push to …: not reachable (bad port)" while deliveries reached the agent
  t.is(r.found.get('agent')?.line, `✓ agent — push to http://127.0.0.1:${port}/hook: answered HTTP 405`);
});
