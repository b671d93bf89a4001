import test, { type ExecutionContext } from 'ava';
import { MessageEventSchema } from '../../../core/index.js';
import { type BatchItem } from '../../../core/pool/plugin-pool.js';
import { startFixturePool, WARM_MS } from './pool-harness.js';

const PLUGINS = ['echo', 'fault-hangs'];
const HOUR = 3_600_000;

const startPool = (t: ExecutionContext) => startFixturePool(t, PLUGINS).pool;

/** Step this thread's wall clock by `ms`; returns the undo (also run at teardown). */
function stepWallClock(t: ExecutionContext, ms: number): () => void {
  const real = Date.now;
  Date.now = () => real() + ms;
  const undo = () => {
    Date.now = real;
  };
  t.teardown(undo);
  return undo;
}

const event = MessageEventSchema.parse({ text: 'fault:hang', source: { platform: 'echo', chat_id: 'c' } });
/** echo (budget `echoMs`) then fault-hangs, which never settles (budget `hangMs`). */
const hanging = (echoMs: number, hangMs: number): BatchItem => ({
  task: { k: 'inbound', chain: [0, 1], input: { event, sessionKey: 'k', capabilities: [] } },
  budgets: [echoMs, hangMs],
});

test.serial(
  'a hung plugin still times out after its budget when the wall clock steps back an hour',
  async (t) => {
    const pool = startPool(t);
    await pool.warm(1, WARM_MS);
    const result = pool.run([hanging(5_000, 300)]);
    const undo = stepWallClock(t, -HOUR);
    const outcome = await Promise.race([
      result.then(([r]) => r),
      new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000)),
    ]);
    undo();
    t.like(outcome, { ok: false, at: 1, error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  },
);

test.serial(
  'a plugin within its budget is not timed out when the wall clock steps forward a day',
  async (t) => {
    const pool = startPool(t);
    await pool.warm(1, WARM_MS);
    // the shorter budget of the first plugin makes the watchdog look every second
    const result = pool.run([hanging(1_000, 15_000)]);
    const undo = stepWallClock(t, 24 * HOUR);
    const outcome = await Promise.race([
      result.then(([r]) => r),
      new Promise((resolve) => setTimeout(() => resolve('still running'), 3_000)),
    ]);
    undo();
    t.is(outcome, 'still running', 'a budget of 15 s was not over after 3 s');
    const [late] = await result;
    t.like(late, { ok: false, at: 1, error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  },
);
