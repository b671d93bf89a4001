/**
 * Micro-batching of chain tasks: chains submitted in the same event-loop turn (a burst of frames
 * read from one socket chunk) travel to the pool together, split across the threads, so the main
 * thread pays one postMessage round trip per batch instead of one per event. A fault in one chain
 * still fails only that chain (see `PluginPool.run`).
 */
import type { BatchItem } from './plugin-pool.js';
import { MAX_BATCH, type TaskReply } from './task-protocol.js';

/**
 * Default most chains per pool task. 128: with one worker in use, every round trip the main
 * thread saves is CPU it spends on the next frames (benchmarks: 32 → 128 gave +5–10 % at the
 * inbound ceiling); a worker runs 128 chains in well under a millisecond.
 */
export const DEFAULT_BATCH_SIZE = 128;

/**
 * A turn's chains are spread over the threads only in chunks of at least this many: below it one
 * message is cheaper for the main thread (the bottleneck) than the parallelism is worth.
 */
export const MIN_SPREAD_CHUNK = 16;

/** What the batcher needs of the pool. */
export interface BatchRunner {
  run(items: readonly BatchItem[]): Promise<TaskReply[]>;
}

/** How many tasks the batcher keeps in flight. */
export interface BatcherThreads {
  /** Threads that carry the load (`pool.minThreads`). */
  readonly active: number;
  /** Most threads, spares included (`pool.maxThreads`). */
  readonly max: number;
  /**
   * A task in flight this long no longer holds its thread's place: one more task may go, to a
   * spare thread, up to `max` (`pool.spareAfterMs`).
   */
  readonly spareAfterMs: number;
}

interface Pending {
  readonly item: BatchItem;
  readonly resolve: (reply: TaskReply) => void;
}

/**
 * Collects chain tasks and sends them to the pool once per turn (or when a batch is full), at
 * most one task per active thread at a time. Spare threads are used only while a task runs past
 * `spareAfterMs` (a slow or stuck hook): the other events keep flowing, and a pool that is not
 * stuck never starts its spares, each a V8 isolate of its own (benchmarks: memory).
 */
export class TaskBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  /** When each task in flight was sent (`performance.now()`). */
  private readonly running = new Set<{ readonly at: number }>();
  private spareTimer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly threads: BatcherThreads;
  private readonly dispatchSoon = () => this.dispatch();

  /** @param maxBatch most chains per pool task (≤ {@link MAX_BATCH}). */
  constructor(
    private readonly pool: BatchRunner,
    threads: BatcherThreads,
    maxBatch = DEFAULT_BATCH_SIZE,
  ) {
    const active = Math.max(1, threads.active);
    this.threads = { active, max: Math.max(active, threads.max), spareAfterMs: threads.spareAfterMs };
    this.maxBatch = Math.max(1, Math.min(MAX_BATCH, maxBatch));
  }

  /** Run one chain; resolves with its reply, never rejects. */
  submit(item: BatchItem): Promise<TaskReply> {
    return new Promise((resolve) => {
      this.pending.push({ item, resolve });
      if (this.pending.length >= this.maxBatch * this.threads.active) this.dispatch();
      else this.schedule();
    });
  }

  /** Send everything pending now, however many tasks are in flight (at close: they fail fast). */
  flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) this.send(this.pending.splice(0, this.maxBatch));
  }

  /**
   * Send after this turn — unless no thread is free: then chains gather until a task answers or
   * one passes `spareAfterMs` (no thread could start them sooner), so a busy pool gets fewer,
   * larger messages, each a wake-up of two threads saved. An idle pool adds no wait.
   */
  private schedule(): void {
    if (this.scheduled || this.pending.length === 0) return;
    const now = performance.now();
    if (this.running.size >= this.capacity(now)) {
      this.armSpare(now);
      return;
    }
    this.scheduled = true;
    setImmediate(this.dispatchSoon);
  }

  /** Send what the free threads take now; the rest waits for an answer (or a spare). */
  private dispatch(): void {
    this.scheduled = false;
    const now = performance.now();
    const free = this.capacity(now) - this.running.size;
    if (free > 0 && this.pending.length > 0) {
      // spread the turn's chains over the free threads, at most maxBatch and (unless fewer are
      // pending) at least MIN_SPREAD_CHUNK per task
      const spread = Math.max(MIN_SPREAD_CHUNK, Math.ceil(this.pending.length / free));
      const size = Math.min(this.maxBatch, spread);
      for (let sent = 0; sent < free && this.pending.length > 0; sent++) {
        this.send(this.pending.splice(0, size));
      }
    }
    if (this.pending.length > 0) this.armSpare(now);
  }

  /** Tasks that may be in flight now: one per active thread, plus one for each stalled task. */
  private capacity(now: number): number {
    let stalled = 0;
    for (const task of this.running) if (now - task.at >= this.threads.spareAfterMs) stalled++;
    return Math.min(this.threads.max, this.threads.active + stalled);
  }

  /** Look again when the next task in flight passes `spareAfterMs`, if a spare could then go. */
  private armSpare(now: number): void {
    if (this.spareTimer || this.running.size >= this.threads.max) return;
    let next = Number.POSITIVE_INFINITY;
    for (const task of this.running) {
      if (now - task.at < this.threads.spareAfterMs) next = Math.min(next, task.at);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    this.spareTimer = setTimeout(
      () => {
        this.spareTimer = undefined;
        this.schedule();
      },
      Math.ceil(next + this.threads.spareAfterMs - now),
    );
    // a task in flight keeps its worker, and so the process, running
    this.spareTimer.unref();
  }

  private send(chunk: Pending[]): void {
    const task = { at: performance.now() };
    this.running.add(task);
    const answered = () => {
      this.running.delete(task);
      this.schedule();
    };
    this.pool.run(chunk.map((p) => p.item)).then(
      (replies) => {
        answered();
        for (const [i, p] of chunk.entries()) p.resolve(replies[i] ?? lost('no reply for this chain'));
      },
      (err: unknown) => {
        answered();
        // PluginPool.run does not reject; this only guards the promise contract of submit()
        for (const p of chunk) p.resolve(lost(String(err)));
      },
    );
  }
}

function lost(reason: string): TaskReply {
  return {
    ok: false,
    at: 0,
    error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED', message: `task lost: ${reason}` },
  };
}
