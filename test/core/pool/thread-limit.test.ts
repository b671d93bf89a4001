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

withThreadLimit(
  'threads refused, then room for exactly one more: the renewal converges on a pool with a working worker',
  async (t) => {
    t.timeout(120_000);
    // renewals 50 ms apart at first, doubling to 800 ms while they fail
    const child = await startLimitedChild(t, CHILD, ['50', '800']);
    t.like(await child.send('run 0 before 10000'), { reply: { ok: true } });
    child.limit(true);
    t.like(await child.send('run 1 fault:exit 10000'), {
      reply: { ok: false, error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' } },
    });
    const during = await child.send('run 0 during 10000');
    t.like(during, { stats: { startFailing: true } });
    // the pool has no worker now: one thread is room for its one worker, and no more
    child.limit({ spare: 1 });
    // renewed at the first try: no start failed on the way (the fresh pool's first was refused)
    t.like(await child.send('ready'), { ready: true, starts: during.starts });
    t.like(await child.send('run 0 after 10000'), { reply: { ok: true }, stats: { startFailing: false } });
    // converged: no renewal, no failed start, never failing again. It was a livelock: the fresh
    // pool's first worker was refused while the old pool's warm-up worker still held the thread,
    // so that pool gave up too, and so on, `/readyz` 503, the backoff reset by each warm-up's boot
    t.deepEqual(await child.send('watch 3000'), { failing: false, renewals: 0, starts: 0 });
    t.like(await child.send('run 0 later 10000'), { reply: { ok: true }, stats: { startFailing: false } });
    child.limit(false);
    t.like(await child.send('close'), { closed: true });
    t.is(await child.exited, 0);
  },
);
