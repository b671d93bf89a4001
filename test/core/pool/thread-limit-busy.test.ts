/**
 * A task sent beside a new pool's refused first worker waits for the pool's one real worker
 * (ready-dispatch.ts, docs/decisions.md "Waiting tasks"); that worker then ends by its hook, or
 * hangs past its budget, while the host still refuses any other thread (RLIMIT_NPROC, for real:
 * test/helpers/thread-limit.ts). The waiting task must settle either way, never wait on with no
 * worker to come, and be counted as waiting no more.
 */
import { fileURLToPath } from 'node:url';
import { startLimitedChild, withThreadLimit } from '../../helpers/thread-limit.js';

const CHILD = fileURLToPath(new URL('../../fixtures/pool/thread-limited-spare.js', import.meta.url));

const cases = [
  {
    mode: 'exit',
    title: 'ends by its hook while a task waits for it: the task runs on a worker the renewal starts',
    first: 'CORE_ERR_PLUGIN_WORKER_DIED',
    // the pool replaces no worker (the refused one's replacement was refused too): the task waits
    // for one the renewal starts (was CORE_ERR_PLUGIN_WORKER_START_FAILED at once before b2206f5)
    waiting: { ok: true },
  },
  {
    mode: 'hang',
    title: 'hangs past its budget while a task waits for it: the task fails as a start, not later',
    first: 'CORE_ERR_PLUGIN_TIMEOUT',
    // the hung worker's replacement starts while its thread still ends: refused, with no worker
    // running, so the waiting task fails then (a stall) rather than waiting for a renewal
    waiting: { ok: false, error: { code: 'CORE_ERR_PLUGIN_WORKER_START_FAILED' } },
  },
];

for (const { mode, title, first, waiting } of cases)
  withThreadLimit(`the pool's one worker ${title}`, async (t) => {
    t.timeout(60_000);
    const child = await startLimitedChild(t, CHILD, [mode]);
    child.limit({ spare: 1 });
    const { replies, stats } = (await child.send('start')) as {
      replies: Array<{ ok: boolean; error?: { code: string } }>;
      stats: { queued: number };
    };
    t.like(replies[0], { ok: false, error: { code: first } });
    t.like(replies[1], waiting, JSON.stringify(replies));
    t.is(stats.queued, 0);
    t.is(await child.exited, 0);
  });
