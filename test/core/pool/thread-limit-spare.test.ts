/**
 * A spare piscina starts while a new pool's refused first worker has not yet ended (RLIMIT_NPROC,
 * for real: test/helpers/thread-limit.ts). piscina offers its balancer every worker, those still
 * starting first; a refused thread's worker (thread-refusals.ts) has no thread id, and the
 * balancer offered any such worker while a refused first one was pending (piscina counts that
 * one ready, and the start's check must fail with it): the refused spare was handed a task, which
 * failed as a start while the pool's one real worker could have run it (docs/decisions.md,
 * "Waiting tasks").
 */
import { fileURLToPath } from 'node:url';
import { startLimitedChild, withThreadLimit } from '../../helpers/thread-limit.js';

const CHILD = fileURLToPath(new URL('../../fixtures/pool/thread-limited-spare.js', import.meta.url));

withThreadLimit(
  "a spare the host refuses is never handed a task, even while a refused first worker is pending: the pool's worker runs it",
  async (t) => {
    t.timeout(60_000);
    const child = await startLimitedChild(t, CHILD);
    // room for the first worker's thread only: the second first worker and the spare are refused
    child.limit({ spare: 1 });
    const { replies } = (await child.send('start')) as {
      replies: Array<{ ok: boolean; error?: { code: string } }>;
    };
    t.like(replies[0], { ok: true });
    // was CORE_ERR_PLUGIN_WORKER_START_FAILED: handed to the refused first worker (piscina counts
    // it ready) though the pool's real one would run it
    t.like(replies[1], { ok: true }, JSON.stringify(replies));
    // was CORE_ERR_PLUGIN_WORKER_START_FAILED: handed to the refused spare
    t.like(replies[2], { ok: true }, JSON.stringify(replies));
    t.is(await child.exited, 0);
  },
);
