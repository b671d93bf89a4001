/**
 * `Sidecar.waitForState` across a freeze (SIGSTOP, a paused VM; here a blocked main thread,
 * which libuv resumes the same way: expired timers before the input that came meanwhile). The
 * sidecar runs in this process, so the descriptor is written to the socket just before the block.
 */
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../core/di/deadline.js';
import { defaultDescriptor } from '../../sidecar/dev-connector/default-descriptor.js';
import { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
import { blockThread } from '../helpers/block-thread.js';
import { secretOf, startInProcess, WAIT } from './e2e-harness.js';

test.serial('a handshake that completed during a freeze is the ready state, not a timeout', async (t) => {
  const secret = secretOf('relay');
  let holdHandshake = false;
  const connector = await DevConnector.start({
    secrets: [secret],
    descriptorFor: (hello) => (holdHandshake ? null : defaultDescriptor(hello.platform)),
  });
  t.teardown(() => connector.close());
  const sc = await startInProcess(t, { connector, secret, config: { relay: { pingIntervalMs: 60_000 } } });
  // a reconnect whose descriptor is held: the sidecar waits for it
  holdHandshake = true;
  const first = await connector.waitForConnection();
  connector.drop();
  const conn = await connector.waitForConnection(WAIT, first);
  const ready = sc.sidecar.waitForState('ready', 300);
  // stopped in a check-phase callback, as in epoll_wait, with the descriptor in the socket
  await new Promise<void>((resolve) => setImmediate(resolve));
  connector.send({ type: 'descriptor', descriptor: defaultDescriptor('discord') }, { conn });
  blockThread(PAUSE_DETECT_MS + 500);
  // was: rejected, "relay state did not become ready within 300 ms (now reconnecting)"
  await t.notThrowsAsync(ready);
});
