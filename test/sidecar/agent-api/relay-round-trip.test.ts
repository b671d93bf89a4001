/**
 * The agent API on the real RelayClient, against a minimal connector on a real `ws` server:
 * actions become `outbound` frames on the wire and the connector's `outbound_result` comes back as
 * the HTTP answer; interrupts become `interrupt` frames.
 */

import test, { type ExecutionContext } from 'ava';
import { WebSocketServer } from 'ws';
import { validateConfig } from '../../../core/config/load.js';
import { systemClock } from '../../../core/di/clock.js';
import { createLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { defaultSocketFactory, RelayClient } from '../../../core/transport/relay-client.js';
import { until } from '../../helpers/until.js';
import { postJson, startApi } from './api-harness.js';

type Frame = Record<string, unknown> & { type: string };

/** A connector that answers every hello with a descriptor and every outbound with a result. */
async function miniConnector(t: ExecutionContext, supportedOps: string[]) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/relay' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  const frames: Frame[] = [];
  wss.on('connection', (ws) => {
    const send = (f: object) => ws.send(`${JSON.stringify(f)}\n`);
    ws.on('message', (data) => {
      for (const line of data
        .toString()
        .split('\n')
        .filter((l) => l)) {
        const frame = JSON.parse(line) as Frame;
        frames.push(frame);
        if (frame.type === 'hello') {
          send({
            type: 'descriptor',
            descriptor: {
              contract_version: 1,
              platform: frame.platform,
              label: 'Mini',
              max_message_length: 2000,
              supports_draft_streaming: false,
              supports_edit: true,
              supports_threads: false,
              markdown_dialect: 'plain',
              len_unit: 'chars',
              supported_ops: supportedOps,
            },
          });
        } else if (frame.type === 'outbound') {
          const action = frame.action as { op: string; chat_id: string };
          const result =
            action.op === 'get_chat_info'
              ? { chat_info: { name: `#${action.chat_id}`, type: 'channel' } }
              : { success: true, message_id: 'M9' };
          send({ type: 'outbound_result', requestId: frame.requestId, result });
        }
      }
    });
  });
  const port = (wss.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, frames };
}

async function startWithRealClient(t: ExecutionContext, supportedOps: string[]) {
  const connector = await miniConnector(t, supportedOps);
  const config = { relay: { url: connector.url, identities: [{ platform: 'discord', botId: 'B1' }] } };
  const client = new RelayClient(
    validateConfig(config),
    createLogger({ level: 'silent' }),
    new Metrics(),
    systemClock,
    defaultSocketFactory,
  );
  t.teardown(() => client.stop());
  const ready = new Promise<void>((resolve) => {
    const off = client.onState((s) => {
      if (s === 'ready') {
        off();
        resolve();
      }
    });
  });
  const h = await startApi(t, { config, deps: { client } });
  client.start();
  await ready;
  return { h, connector, client };
}

test('POST /v1/actions ⇒ an outbound frame on the wire ⇒ the connector result as the answer', async (t) => {
  const { h, connector } = await startWithRealClient(t, ['send', 'get_chat_info']);
  const res = await postJson(h, '/v1/actions', { op: 'send', chat_id: 'C1', content: 'hello' });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { result: { success: true, message_id: 'M9' } });
  const outbound = connector.frames.filter((f) => f.type === 'outbound');
  t.is(outbound.length, 1);
  t.deepEqual(outbound[0]?.action, {
    op: 'send',
    chat_id: 'C1',
    content: 'hello',
    reply_to: null,
    metadata: {},
  });
  t.regex(String(outbound[0]?.requestId), /^[0-9a-f]{32}$/);
});

test('an op the real descriptor lacks ⇒ 422, nothing on the wire', async (t) => {
  const { h, connector } = await startWithRealClient(t, ['send']);
  const res = await postJson(h, '/v1/actions', { op: 'edit', chat_id: 'C1', message_id: 'M1', content: 'x' });
  t.is(res.status, 422);
  t.is(connector.frames.filter((f) => f.type === 'outbound').length, 0);
});

test('GET /v1/chats/{id} asks the connector when advertised, answers locally otherwise', async (t) => {
  const advertised = await startWithRealClient(t, ['send', 'get_chat_info']);
  const res = await advertised.h.call('/v1/chats/C5');
  t.deepEqual(await res.json(), { name: '#C5', type: 'channel' });
  const local = await startWithRealClient(t, ['send']);
  const res2 = await local.h.call('/v1/chats/C5');
  t.deepEqual(await res2.json(), { name: 'C5', type: 'dm' });
  t.is(local.connector.frames.filter((f) => f.type === 'outbound').length, 0);
});

test('POST /v1/interrupt ⇒ an interrupt frame with reason null when none given', async (t) => {
  const { h, connector } = await startWithRealClient(t, ['send']);
  const res = await postJson(h, '/v1/interrupt', { session_key: 'agent:main:discord:dm:D1' });
  t.is(res.status, 202);
  await until(() => connector.frames.some((f) => f.type === 'interrupt'));
  const interrupts = connector.frames.filter((f) => f.type === 'interrupt');
  t.deepEqual(interrupts, [{ type: 'interrupt', session_key: 'agent:main:discord:dm:D1', reason: null }]);
});

test('real client stopped ⇒ actions answer 200 "relay transport closed", readyz 503', async (t) => {
  const { h, client } = await startWithRealClient(t, ['send']);
  await client.stop();
  const res = await postJson(h, '/v1/actions', { op: 'send', chat_id: 'C1', content: 'x' });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { result: { success: false, error: 'relay transport closed' } });
  const ready = await fetch(`${h.base}/readyz`);
  t.is(ready.status, 503);
  t.deepEqual(await ready.json(), { state: 'stopped' });
});
