/**
 * The stop's close handshake across a freeze of the main thread: the close frame is out, the
 * thread stops past the close grace (1 s), and at the resume the connector's answer is still to
 * read (here the connector shares the thread, so it answers only then). A freeze did none of
 * the handshake's waiting: the grace runs on the drain's meter, which leaves the pause out, so
 * the close ends clean (1000), not killed (1006).
 */
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { startPauseMeter } from '../../../core/di/pause-meter.js';
import { STOP_CLOSE_GRACE_MS } from '../../../core/transport/relay-client.js';
import { blockThread, freezeIdle } from '../../helpers/block-thread.js';
import { startHarness } from './relay-harness.js';

test.serial('a freeze past the close grace does not turn the stop’s clean close into 1006', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  const meter = startPauseMeter();
  t.teardown(() => meter.stop());
  // stopped as from epoll_wait, right after the close frame went out: the next turn runs the
  // expired grace timer before it reads what arrived meanwhile
  await freezeIdle(0);
  const stopped = h.client.stop(meter);
  blockThread(STOP_CLOSE_GRACE_MS + PAUSE_DETECT_MS);
  await stopped;
  // was: 1006 (ws's close timer, then the grace's, both plain timers, ended the socket at the
  // resume before the connector's close frame was read)
  t.deepEqual(
    h.sink.withMsg('relay socket closed').map((l) => l.closeCode),
    [1000],
  );
});
