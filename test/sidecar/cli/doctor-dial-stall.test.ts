/**
 * The doctor's connector probe when its main thread stalls (a loaded machine, a paused VM): its
 * own deadline names the outcome, never the client's handshake timer behind it.
 */
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { silentLogger } from '../../../core/log/logger.js';
import { defaultSocketFactory, type SocketFactory } from '../../../core/transport/relay-client.js';
import { probeConnector } from '../../../sidecar/cli/doctor-dial.js';
import { DevConnector } from '../../../sidecar/dev-connector/index.js';
import { blockThread } from '../../helpers/block-thread.js';
import { testConfig } from '../../helpers/test-config.js';

const SECRET = 'doctor-stall-secret-0123456789abcdef';
const TIMEOUT_MS = 1_500;

test.serial(
  'a stall past the budget while no descriptor comes is a timeout, not a close (1006)',
  async (t) => {
    const dc = await DevConnector.start({ secrets: [SECRET], descriptorFor: () => null });
    t.teardown(() => dc.close());
    // once the socket is open (a poll-phase event), stall from 1 s until past both the probe's
    // budget (1.5 s: its deadline then fires a pause late) and the client's handshake timer
    // (1 s later, at 2.5 s: it fires on time and closed the socket, 1006, before the probe's regrant ran out)
    const stalling: SocketFactory = (url, options) => {
      const ws = defaultSocketFactory(url, options);
      ws.once('open', () => {
        const opened = performance.now();
        setTimeout(() => setImmediate(() => blockThread(2_800 - (performance.now() - opened))), 1_000);
      });
      return ws;
    };
    const config = testConfig({ relay: { url: dc.url, gatewayId: 'gw-stall', secret: SECRET } });
    const outcome = await probeConnector({
      config,
      timeoutMs: TIMEOUT_MS,
      log: silentLogger(),
      socketFactory: stalling,
    });
    t.true(2_800 - TIMEOUT_MS >= PAUSE_DETECT_MS, 'the probe deadline fires a pause late');
    t.deepEqual(outcome, { kind: 'timeout', opened: true });
  },
);
