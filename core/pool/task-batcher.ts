/**
 * Micro-batching of chain tasks: chains submitted in the same event-loop turn (a burst of frames
 * read from one socket chunk) travel to the pool together, split across the threads, so the main
 * thread pays one postMessage round trip per batch instead of one per event. A fault in one chain
 * still fails only that chain (see `PluginPool.run`).
 */
import type { BatchItem } from './plugin-pool.js';
import { MAX_BATCH, type TaskReply } from './task-protocol.js';

/** Default most chains per pool task. */
export const DEFAULT_BATCH_SIZE = 32;

/**
 * A turn's chains are spread over the threads only in chunks of at least this many: below it one
 * message is cheaper for the main thread (the bottleneck) than the parallelism is worth.
 */
export const MIN_SPREAD_CHUNK = 16;

/** What the batcher needs of the pool. */
export interface BatchRunner {
  run(items: readonly BatchItem[]): Promise<TaskReply[]>;
}

interface Pending {
  readonly item: BatchItem;
  readonly resolve: (reply: TaskReply) => void;
}

/** Collects chain tasks and flushes them to the pool once per turn (or when a batch is full). */
export class TaskBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  /** Tasks sent and not answered yet. */
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly flushSoon = () => this.flush();

  /**
   * @param parallelism threads to spread one turn's chains over (`pool.maxThreads`).
   * @param maxBatch most chains per pool task (≤ {@link MAX_BATCH}).
   */
  constructor(
    private readonly pool: BatchRunner,
    private readonly parallelism: number,
    maxBatch = DEFAULT_BATCH_SIZE,
  ) {
    this.maxBatch = Math.max(1, Math.min(MAX_BATCH, maxBatch));
  }

  /** Run one chain; resolves with its reply, never rejects. */
  submit(item: BatchItem): Promise<TaskReply> {
    return new Promise((resolve) => {
      this.pending.push({ item, resolve });
      if (this.pending.length >= this.maxBatch * this.parallelism) this.flush();
      else this.schedule();
    });
  }

  /**
   * Flush after this turn — unless every thread is busy with a task of ours: then chains gather
   * until one answers (no thread could start them sooner), so a busy pool gets fewer, larger
   * messages, each a wake-up of two threads saved. An idle pool adds no wait.
   */
  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= this.parallelism) return;
    this.scheduled = true;
    setImmediate(this.flushSoon);
  }

  /** Send everything pending now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    // spread the turn's chains over the threads, at most maxBatch and (unless fewer are
    // pending) at least MIN_SPREAD_CHUNK per task
    const spread = Math.max(MIN_SPREAD_CHUNK, Math.ceil(batch.length / this.parallelism));
    const size = Math.min(this.maxBatch, spread);
    for (let start = 0; start < batch.length; start += size) this.send(batch.slice(start, start + size));
  }

  private send(chunk: Pending[]): void {
    this.inFlight += 1;
    const answered = () => {
      this.inFlight -= 1;
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
