/**
 * Push delivery against agents answering the way real HTTP servers do when things go wrong: a
 * 2xx whose body breaks off, a body delimited by the connection's close, redirects.
 */
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { startAgent } from '../../helpers/loopback-agent.js';
import { inbound, pushTo, rows, sharedHost, startInbox, TOKEN, until } from '../inbox/inbox-harness.js';

const host = sharedHost();

/**
 * A raw TCP agent answering every request with `answer` and closing the connection (HTTP/1.0
 * style: no length, the close ends the body). Returns its URL.
 */
async function rawAgent(t: ExecutionContext, answer: string): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (end < 0 || head.length < end + 4 + length) return;
      head = '';
      socket.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hook`;
}

const SEND = { op: 'send', chat_id: 'K1', content: 'reply' };

test('a 2xx whose body breaks off is retried, not taken as delivered with its actions dropped', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.reply({ breakOff: '{"actions":[{"op":"send","chat_id":"K1"' }, { actions: [SEND] });
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { retryBaseMs: 1 }) });
  h.inbox.routes.inbound(inbound({ text: 'cut', chat: 'K1' }));
  await until(() => rows(h)[0]?.state === 'delivered');
  await until(() => h.actions.length === 1);
  t.deepEqual(h.actions, [SEND]);
  t.is(agent.deliveries.length, 2);
  t.is(new Set(agent.deliveries.map((d) => d.id)).size, 1);
  const [failed, ...more] = h.sink.withCode('CORE_ERR_DELIVERY_FAILED');
  t.is(more.length, 0);
  t.like(failed, { status: 200 });
  t.regex(String(failed?.reason), /^answer broke off after HTTP 200: /);
});

test('a 2xx body that ends with the connection (no length) is a whole answer', async (t) => {
  const body = JSON.stringify({ actions: [SEND] });
  const url = await rawAgent(
    t,
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
  );
  const h = await startInbox(t, host(), { config: pushTo(url) });
  h.inbox.routes.inbound(inbound({ text: 'old server', chat: 'K1' }));
  await until(() => h.actions.length === 1);
  t.deepEqual(h.actions, [SEND]);
  t.is(rows(h)[0]?.attempt, 1);
  t.deepEqual(h.sink.withCode('CORE_ERR_DELIVERY_FAILED'), []);
});

test('a redirect is retried, not followed, and the failure names its target without the query', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.reply({ status: 307, headers: { location: '/hook/?token=abc' } });
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { retryBaseMs: 1 }) });
  h.inbox.routes.inbound(inbound({ text: 'moved', chat: 'K2' }));
  await until(() => rows(h)[0]?.state === 'delivered');
  t.deepEqual(
    agent.deliveries.map((d) => d.path),
    ['/hook', '/hook'],
  );
  const [failed] = h.sink.withCode('CORE_ERR_DELIVERY_FAILED');
  t.like(failed, {
    status: 307,
    reason: `HTTP 307 redirect to ${agent.url}/ (not followed: set AGENT_URL to it)`,
  });
  t.false(h.sink.text().includes('token=abc'));
});
