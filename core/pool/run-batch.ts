/**
 * Running one batch task in a pool worker: its chains in order, with the worker's store writes
 * held for the whole batch and committed in one transaction at its end (`KvStore.hold`) — or
 * sooner, once the batch has run {@link HOLD_FLUSH_MS}. Independent of worker_threads so it is
 * tested in-process; the worker supplies a {@link BatchEnv}.
 */
import { errorMessage } from '../errors.js';
import { type ChainEnv, type ChainPlugin, runChain } from '../plugin-host/hook-chain.js';
import type { ReleaseFailure } from '../store/kv-store.js';
import { type ChainTask, MAX_CHAIN, type TaskReply } from './task-protocol.js';

/** Who made a store write: `item * MAX_CHAIN + position` of the chain position running. */
export type Writer = number;

/** What a batch needs from its thread. */
export interface BatchEnv {
  /** The plugin at manifest index `index`; rejects with a RelayError (load/options failure). */
  plugin(index: number): Promise<ChainPlugin>;
  /** Called before chain position `position` of batch item `item` starts (loading included). */
  enter(item: number, position: number): void;
  /** Hold the thread's store writes from now on; `writer()` names who makes each one. */
  hold(writer: () => Writer): void;
  /** Commit what is held now and keep holding (a failure is reported by `release`). */
  flush(): void;
  /** Commit the held writes; the writers whose writes were lost, when the commit failed. */
  release(): ReleaseFailure<Writer> | undefined;
  /** Called once batch item `item` has its reply (the worker may end here: exit-trap.ts). */
  left?(item: number): void;
}

/**
 * A batch that runs longer than this commits what it holds, before each further chain and while
 * its hooks wait, ms. A fast batch (a few ms at the ceiling) commits once; a slow one — a hook
 * awaiting a remote call — keeps the store's order: by the time a spare worker takes newer events
 * (`pool.spareAfterMs`, 100 ms by default), what the older ones wrote is committed, so their
 * commit cannot land after the newer writes and undo them.
 */
export const HOLD_FLUSH_MS = 20;

/** Longest store error message kept in a failure, characters. */
const MAX_STORE_MESSAGE = 500;

/**
 * Run a batch's chains in order; one reply per chain, never rejects. A chain whose store writes
 * could not be committed fails at the position that wrote (`CORE_ERR_PLUGIN_STORE_FAILED`), as if
 * the write had thrown: a transient failure, so a buffered frame is redelivered.
 */
export async function runBatch(
  chains: readonly ChainTask[],
  env: BatchEnv,
  flushMs = HOLD_FLUSH_MS,
): Promise<TaskReply[]> {
  let item = 0;
  let writer: Writer = 0;
  const chainEnv: ChainEnv = {
    plugin: env.plugin,
    enter: (position) => {
      writer = item * MAX_CHAIN + position;
      env.enter(item, position);
    },
  };
  const replies: TaskReply[] = [];
  env.hold(() => writer);
  const started = performance.now();
  // fires only while the thread is free, i.e. while a hook awaits something
  const flusher = setInterval(() => env.flush(), flushMs);
  try {
    for (; item < chains.length; item++) {
      if (performance.now() - started >= flushMs) env.flush();
      replies.push(await runChain(chains[item] as ChainTask, chainEnv));
      env.left?.(item);
    }
  } finally {
    clearInterval(flusher);
    const lost = env.release();
    if (lost) failWriters(replies, lost);
  }
  return replies;
}

/** Fail the chains whose writes were lost, each at the first position that wrote. */
function failWriters(replies: TaskReply[], lost: ReleaseFailure<Writer>): void {
  const message = `store write failed: ${errorMessage(lost.error)}`.slice(0, MAX_STORE_MESSAGE);
  for (const writer of [...lost.owners].sort((a, b) => a - b)) {
    const item = Math.floor(writer / MAX_CHAIN);
    const reply = replies[item];
    if (!reply?.ok) continue;
    replies[item] = {
      ok: false,
      at: writer % MAX_CHAIN,
      error: { code: 'CORE_ERR_PLUGIN_STORE_FAILED', message },
      ...(reply.logs ? { logs: reply.logs } : {}),
    };
  }
}
