/**
 * The API's bounded close across a freeze (SIGSTOP, a paused VM; here a blocked main thread,
 * which libuv resumes the same way: expired timers before the input that came meanwhile, while
 * other threads run on).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { freezeIdle } from '../../helpers/block-thread.js';
import { startApi } from './api-harness.js';

test.serial('a call whose answer came during a freeze in the close is answered, not cut', async (t) => {
  // the relay's result comes from another thread, 100 ms after it is asked: during the freeze
  const relay = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.once('message', () => setTimeout(() => parentPort.postMessage('result'), 100));`,
    { eval: true },
  );
  t.teardown(() => relay.terminate());
  const h = await startApi(t);
  h.client.reply = async () => {
    await once(relay, 'message');
    return { success: true, message_id: 'm-frozen' };
  };
  const call = h.call('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({ op: 'send', chat_id: 'C', content: 'x' }),
  });
  while (h.client.sent.length === 0) await new Promise((r) => setTimeout(r, 5));
  const closed = h.api.close(300);
  relay.postMessage('go');
  await freezeIdle(PAUSE_DETECT_MS + 500);
  await closed;
  // was: rejected (the close's timer ran first at the resume and cut the connection)
  const res = await call;
  const body = (await res.json()) as { result?: Record<string, unknown> };
  t.like(body.result, { success: true, message_id: 'm-frozen' });
});
