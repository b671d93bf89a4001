/**
 * A freeze during the shutdown's drain, the real CLI stopped (SIGSTOP) after SIGTERM and resumed
 * (SIGCONT): an answer that came during the stop must not be taken for a timeout.
 */
import test from 'ava';
import { DevConnector } from '../../sidecar/dev-connector/dev-connector.js';
import { freezeFor, sleep, startFreezeStack } from './freeze-stack.js';

/** The shutdown budget: long enough for this (busy) test process to stop the CLI mid-drain. */
const BUDGET_MS = 3_000;
/** Past the whole budget, and past the 1 s pause threshold. */
const FREEZE_MS = BUDGET_MS + 3_000;

test.serial('a going_idle_ack that arrives during a freeze is the ack, not a timeout', async (t) => {
  const { connector, proc } = await startFreezeStack(t, {
    config: {
      shutdown: { budgetMs: BUDGET_MS },
      relay: { pingIntervalMs: 60_000, shutdownGoingIdleTimeoutMs: 1_000 },
    },
    connector: (secret) => DevConnector.start({ secrets: [secret], answerGoingIdle: false }),
  });
  process.kill(proc.pid, 'SIGTERM');
  await connector.waitFor((f) => f.dir === 'in' && f.frame.type === 'going_idle');
  // the sidecar waits (idle) for the ack when it stops; the ack arrives during the stop
  await sleep(300);
  freezeFor(proc.pid, FREEZE_MS);
  await sleep(100);
  connector.send({ type: 'going_idle_ack' });
  await proc.exited;
  t.deepEqual(proc.withCode('CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT'), []);
  t.deepEqual(proc.withMsg('going_idle not acknowledged; closing anyway'), []);
});
