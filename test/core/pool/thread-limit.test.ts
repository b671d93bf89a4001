/**
 * A host that refuses threads (RLIMIT_NPROC, for real: test/helpers/thread-limit.ts). node 20's
 * `new Worker` then throws `ERR_WORKER_INIT_FAILED` synchronously, and piscina starts workers from
 * its own event handlers (a worker's exit, a task's abort, a worker's ready or answer), where that
 * throw was uncaught: the sidecar exited 1. And after one failed start piscina replaces no worker
 * for the life of the pool. Now such a start fails as any failed start does (reported, tasks fail
 * transiently), and the pool is renewed once threads are available again (docs/decisions.md,
 * "Worker deaths").
 */
import { fileURLToPath } from 'node:url';
import { startLimitedChild, withThreadLimit } from '../../helpers/thread-limit.js';

const CHILD = fileURLToPath(new URL('../../fixtures/pool/thread-limited-pool.js', import.meta.url));
const START = 'CORE_ERR_PLUGIN_WORKER_START_FAILED';

withThreadLimit(
  'threads refused: a worker ended by its hook or a timeout does not end the process, and the pool recovers',
  async (t) => {
    t.timeout(120_000);
    const child = await startLimitedChild(t, CHILD);
    t.like(await child.send('run 0 before 10000'), { reply: { ok: true } });
    child.limit(true);
    // the hook ends its worker: piscina replaces it from the thread's exit event, and that start is refused
    t.like(await child.send('run 1 fault:exit 10000'), {
      reply: { ok: false, error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' } },
    });
    // no worker can start: tasks fail at once, transiently
    t.like(await child.send('run 0 during 10000'), {
      reply: { ok: false, error: { code: START } },
      stats: { startFailing: true },
    });
    child.limit(false);
    // no task is sent: the pool gets a worker again by itself
    t.like(await child.send('ready'), { ready: true, stats: { startFailing: false } });
    t.like(await child.send('run 0 after 10000'), { reply: { ok: true } });
    child.limit(true);
    // a hook past its budget: its worker is terminated from the task's abort, and the replacement refused
    t.like(await child.send('run 2 fault:hang 300'), {
      reply: { ok: false, error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } },
    });
    t.like(await child.send('run 0 during 10000'), { reply: { ok: false, error: { code: START } } });
    child.limit(false);
    t.like(await child.send('ready'), { ready: true });
    t.like(await child.send('run 0 again 10000'), { reply: { ok: true } });
    const closed = await child.send('close');
    t.true((closed.codes as string[]).includes(START));
    t.is(await child.exited, 0);
  },
);
