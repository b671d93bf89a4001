/**
 * A pool's warm-ups: a `warm` task per worker asked for, each loading every plugin in the worker
 * that takes it (the start-up check, and a renewal's check that a worker starts again).
 */
import { systemClock } from '../di/clock.js';
import { abortAfter } from '../di/deadline.js';
import type { PoolHandover } from './pool-handover.js';
import { type WaitingTasks, withWaiting } from './ready-dispatch.js';
import type { PoolTask, TaskReply, WarmValue } from './task-protocol.js';

/**
 * Send `tasks` warm-ups (at least one) to the current pool, each bounded by `timeoutMs`;
 * resolves with the plugins that failed to load. `cancel` aborts them early.
 */
export async function warmWorkers(
  pools: PoolHandover,
  waiting: WaitingTasks,
  tasks: number,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<WarmValue['failed']> {
  const run = async () => {
    // work waiting for a worker, as a task is (ready-dispatch.ts), from now until a loaded worker
    // takes it: counted in the status and gauge, though outside `pool.maxQueue`
    const mark = waiting.enter('warm');
    // a load a freeze cut (its reply unread, or its worker stopped too) is no load failure
    const deadline = abortAfter(systemClock, timeoutMs, 'plugin warm-up');
    try {
      await pools.settled(Number.POSITIVE_INFINITY, false);
      const signal = cancel ? AbortSignal.any([deadline.signal, cancel]) : deadline.signal;
      const task: PoolTask = { k: 'warm' };
      const reply = (await pools.current.run(withWaiting(task, mark), { signal })) as TaskReply<WarmValue>;
      return reply.ok ? reply.value.failed : [];
    } finally {
      deadline.clear();
      mark.leave();
    }
  };
  const results = await Promise.all(Array.from({ length: Math.max(1, tasks) }, run));
  return results.flat();
}
