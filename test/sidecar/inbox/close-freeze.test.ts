/**
 * The inbox's close on the drain's pause meter across a freeze (SIGSTOP, a paused VM; here a
 * blocked main thread, which libuv resumes the same way: expired timers before the input that
 * came meanwhile, while other threads run on).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { startPauseMeter } from '../../../core/di/pause-meter.js';
import { freezeIdle } from '../../helpers/block-thread.js';
import { inbound, rows, sharedHost, startInbox, until, wrapInbound } from './inbox-harness.js';

const host = sharedHost();

test.serial(
  'a live frame whose plugins end during a freeze in the close is committed, not abandoned',
  async (t) => {
    // the plugins' end comes from another thread, 100 ms after it is asked: during the freeze
    const peer = new Worker(
      `const { parentPort } = require('node:worker_threads');
     parentPort.once('message', () => setTimeout(() => parentPort.postMessage('ended'), 100));`,
      { eval: true },
    );
    t.teardown(() => peer.terminate());
    let entered = false;
    const h = await startInbox(t, host(), {
      wrap: wrapInbound(async (input, real) => {
        entered = true;
        await once(peer, 'message');
        return real.runInbound(input);
      }),
    });
    h.inbox.routes.inbound(inbound({ text: 'in the plugins', chat: 'S1' }));
    await until(() => entered, 10_000, 'the frame in its plugins');
    const meter = startPauseMeter();
    t.teardown(() => meter.stop());
    const closed = h.inbox.close(300, meter);
    peer.postMessage('go');
    await freezeIdle(PAUSE_DETECT_MS + 500);
    await closed;
    const again = await h.reopen({ start: false });
    // was: none (the wait ended at the resume, the live frame was abandoned: the connector never
    // redelivers it)
    t.is(rows(again).length, 1, 'the live frame was committed');
  },
);
