/**
 * The ingest pipeline: connector frames → plugins (concurrently, through the pool) → session
 * key → commit (in arrival order) → `inbound_ack`. Route handlers return at once and never await
 * anything on the socket's read path; results come back through the {@link ReorderChain}.
 */
import { type PauseMeter, timeOf } from '../../core/di/pause-meter.js';
import { errorMessage, isErrorCode, toErrorData } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { IncomingOf } from '../../core/protocol/frames.js';
import type { SessionKeyOptions } from '../../core/protocol/session-key.js';
import { Backpressure } from './backpressure.js';
import { bufferDedupeKey, eventDedupeKey } from './dedupe-key.js';
import { type CommitDeps, commitFrames, type HeldFrames } from './frame-commit.js';
import type { FrameJob, FrameOutcome } from './frame-outcome.js';
import {
  type IngestPlugins,
  type ProcessContext,
  processForward,
  processInbound,
} from './frame-processor.js';
import { HeldCommits } from './held-commits.js';
import { HeldInterrupts, type InterruptFrame } from './held-interrupts.js';
import { ReorderChain } from './reorder-chain.js';
import { TaskLimiter } from './task-limiter.js';
/** A frame that failed its schema but carried a bufferId (from the relay client). */
export interface PoisonNotice {
  readonly bufferId: string;
  readonly code: string;
  readonly reason: string;
  readonly type?: string;
}

/** The routes the relay client calls (`RelayClient.setRoutes`). */
export interface IngestRoutes {
  inbound(frame: IncomingOf<'inbound'>): void;
  passthrough_forward(frame: IncomingOf<'passthrough_forward'>): void;
  interrupt_inbound(frame: IncomingOf<'interrupt_inbound'>): void;
  poison(notice: PoisonNotice): void;
}

/** What ingest needs from outside the inbox. */
export interface IngestDeps {
  readonly plugins: IngestPlugins;
  /** Send `inbound_ack{bufferId}`; false when no socket is ready (the connector redelivers). */
  readonly ack: (bufferId: string) => boolean;
}

/** Ingest settings and collaborators (`onCommitted` hands committed rows to the scheduler). */
export interface IngestOptions extends IngestDeps, CommitDeps {
  readonly session: SessionKeyOptions;
  /** Frames in the pipeline before `onBackpressure(true)` (`inbox.maxIngestPending`). */
  readonly maxPending: number;
  /** Frames inside the plugin pool at once. */
  readonly maxInPlugins: number;
  /** A local or connector interrupt: committed at once, outside the frame order. */
  readonly onInterrupt: (frame: InterruptFrame) => void;
}

type Work = () => Promise<FrameOutcome>;

/** The frames that go through the plugins (and so can be replayed from a dead letter). */
export type ReplayableFrame = IncomingOf<'inbound'> | IncomingOf<'passthrough_forward'>;

/** The ingest pipeline of one inbox. */
export class Ingest {
  /** Pass to `RelayClient.setRoutes`. */
  readonly routes: IngestRoutes;
  private readonly chain: ReorderChain<[FrameJob, FrameOutcome]>;
  private readonly limiter: TaskLimiter;
  private readonly log: Logger;
  private readonly backpressure: Backpressure;
  private closed = false;
  private abandoned = false;
  private readonly ctx: ProcessContext;
  /** The commit's collaborators, logging as `ingest` like the rest of the pipeline. */
  private readonly commitDeps: CommitDeps;
  /** Commits in arrival order, with what the store refuses held for a retry (counted as pending). */
  private readonly held: HeldCommits<[FrameJob, FrameOutcome]>;
  /** Interrupts the store refused, held and committed again in order (counted as pending). */
  private readonly heldInterrupts: HeldInterrupts;

  constructor(private readonly opts: IngestOptions) {
    this.log = opts.log.child({ component: 'ingest' });
    this.commitDeps = { ...opts, log: this.log };
    this.backpressure = new Backpressure(opts.maxPending, this.log, opts.metrics);
    this.chain = new ReorderChain((items) => this.commit(items));
    this.held = new HeldCommits<[FrameJob, FrameOutcome]>({
      kind: 'frames',
      commit: (items) => this.commitNow(items),
      // buffered frames come back with a redelivery and a replay's dead letter stays: only a live frame is lost
      isLive: ([job]) => job.bufferId === undefined && job.replayOf === undefined,
      settle: ([job]) => job.onSettled?.(),
      now: opts.now,
      log: this.log,
      metrics: opts.metrics,
      onChange: () => this.updateBackpressure(),
    });
    this.heldInterrupts = new HeldInterrupts({
      commit: opts.onInterrupt,
      now: opts.now,
      log: this.log,
      metrics: opts.metrics,
      onChange: () => this.updateBackpressure(),
    });
    this.limiter = new TaskLimiter(Math.max(1, opts.maxInPlugins));
    this.ctx = { plugins: opts.plugins, session: opts.session };
    this.routes = {
      inbound: (frame) => this.accept(frame, frame.bufferId ?? undefined, eventDedupeKey(frame.event)),
      passthrough_forward: (frame) => this.accept(frame, frame.bufferId ?? undefined, undefined),
      interrupt_inbound: (frame) => {
        if (this.closed) return;
        this.heldInterrupts.commit(frame);
        this.updateBackpressure();
      },
      poison: (notice) => {
        const frame = { type: notice.type ?? 'unknown', bufferId: notice.bufferId, reason: notice.reason };
        const code = isErrorCode(notice.code) ? notice.code : 'CORE_ERR_FRAME_SCHEMA';
        const outcome: FrameOutcome = { kind: 'poison', code, message: notice.reason };
        this.accept(frame, notice.bufferId, undefined, outcome);
      },
    };
  }

  /** Frames accepted and not yet committed (or given up). */
  get pending(): number {
    return this.chain.pending + this.held.size + this.heldInterrupts.size;
  }

  /** True while frames wait for the store to take their commit ({@link HeldCommits}). */
  get storeFailing(): boolean {
    return this.held.size > 0 || this.heldInterrupts.size > 0;
  }

  /** Be told when the pipeline is full (pause reading the socket) and when it has room again. */
  onBackpressure(listener: (paused: boolean) => void): void {
    this.backpressure.onChange(listener);
  }

  /** Run a dead-lettered frame through the pipeline again; it is neither deduped nor acked. */
  replay(deadLetterId: string, frame: ReplayableFrame, onSettled: () => void): void {
    const job = { ...this.job(frame, frame.bufferId ?? undefined, deadLetterId), onSettled };
    this.enqueue(job, this.work(frame, job));
  }

  /**
   * Wait up to `budgetMs` for every frame taken so far to commit; frames arriving meanwhile are
   * still taken, not waited for. The shutdown's step while the socket is open: buffered frames
   * that already arrived get their `inbound_ack` while there is a socket to carry it. On
   * `meter`'s time when given, as {@link close}.
   */
  async settle(budgetMs: number, meter?: PauseMeter): Promise<void> {
    const taken = this.chain.taken;
    await this.waitUntil(() => this.chain.flushed >= taken, budgetMs, meter);
  }

  /**
   * Stop taking frames (at shutdown the socket is closed by now, so none arrive); wait up to
   * `budgetMs` for those in the pipeline to commit, of `meter`'s time when given (the drain's,
   * less its pauses: a freeze, the pool's workers stopped too, ended the wait at the resume and
   * abandoned a live frame still in its plugins, lost).
   */
  async close(budgetMs: number, meter?: PauseMeter): Promise<void> {
    this.closed = true;
    await this.waitUntil(() => this.pending === 0, budgetMs, meter);
    // later results are dropped un-acked: the connector redelivers buffered frames
    this.abandoned = true;
    this.held.abandon();
    this.heldInterrupts.abandon();
  }

  private async waitUntil(done: () => boolean, budgetMs: number, meter?: PauseMeter): Promise<void> {
    // monotonic: a step of the wall clock must not end (or stretch) the wait
    const now = timeOf(meter);
    const deadline = now() + budgetMs;
    while (!done() && now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** The plugin work of a frame. */
  private work(frame: ReplayableFrame, job: FrameJob): Work {
    const facts = {
      frame: frame.type,
      receivedAt: job.receivedAt,
      ...(job.bufferId ? { bufferId: job.bufferId } : {}),
    };
    return frame.type === 'inbound'
      ? () => processInbound(frame.event, facts, this.ctx)
      : () => processForward(frame.forward, facts, this.ctx);
  }

  private job(frame: object, bufferId: string | undefined, replayOf?: string): FrameJob {
    const type = String((frame as { type?: unknown }).type ?? 'unknown');
    return {
      seq: this.chain.next(),
      type,
      frame: frame as Record<string, unknown>,
      receivedAt: this.opts.now(),
      ...(bufferId ? { bufferId, key: bufferDedupeKey(bufferId) } : {}),
      ...(replayOf ? { replayOf } : {}),
    };
  }

  /** Take a frame off the read path: early duplicate check, then the plugins, then the chain. */
  private accept(
    frame: ReplayableFrame | Record<string, unknown>,
    bufferId: string | undefined,
    eventKey: string | undefined,
    poison?: FrameOutcome,
  ): void {
    if (this.closed) {
      // only a replay can come this late: the socket closes before the inbox does
      reportError(
        this.log,
        this.opts.metrics,
        'CORE_ERR_INBOX_COMMIT_FAILED',
        'frame not taken: the inbox is closed',
        {
          bufferId,
        },
      );
      return;
    }
    const job = this.job(frame, bufferId);
    const known = job.key ?? (bufferId ? undefined : eventKey);
    if (known && this.opts.store.dedupe.has(known)) {
      this.chain.complete(job.seq, [job, { kind: 'duplicate' }]);
    } else if (poison) {
      this.chain.complete(job.seq, [job, poison]);
    } else {
      this.enqueue(job, this.work(frame as ReplayableFrame, job));
    }
    this.updateBackpressure();
  }

  private enqueue(job: FrameJob, work: Work): void {
    this.limiter.run(work).then(
      (outcome) => this.chain.complete(job.seq, [job, outcome]),
      (err: unknown) => {
        const error = toErrorData(err, 'CORE_ERR_INBOX_INGEST_FAILED');
        reportError(this.log, this.opts.metrics, 'CORE_ERR_INBOX_INGEST_FAILED', 'frame processing threw', {
          type: job.type,
          bufferId: job.bufferId,
          error: error.message,
        });
        this.chain.complete(job.seq, [job, { kind: 'transient', ...error }]);
      },
    );
  }

  /** Commit a run of in-order results, then ack and hand rows on. */
  private commit(items: [FrameJob, FrameOutcome][]): void {
    if (this.abandoned) {
      for (const [job] of items) job.onSettled?.();
      return;
    }
    this.held.commit(items);
    this.updateBackpressure();
  }

  /** Commit `items`; what the store could not take now is returned. */
  private commitNow(items: readonly [FrameJob, FrameOutcome][]): HeldFrames | undefined {
    try {
      return commitFrames(this.commitDeps, items);
    } catch (err) {
      // runs from setImmediate: nothing may escape (an effect failed after its commit)
      const fields = { step: 'after-commit effects', error: errorMessage(err), frames: items.length };
      reportError(
        this.log,
        this.opts.metrics,
        'CORE_ERR_INTERNAL_THREW',
        'after-commit effects failed',
        fields,
        'error',
      );
      return undefined;
    }
  }

  /** Pipeline level for backpressure, held frames included. */
  private updateBackpressure(): void {
    this.backpressure.update(this.pending);
  }
}
