/**
 * The durable inbox: every event is committed here before anything else happens to it, then
 * delivered to the agent (push or pull) with per-session order, and survives restarts.
 *
 * Wiring: `const inbox = Inbox.open({...})`, `client.setRoutes(inbox.routes)`,
 * `inbox.onBackpressure(paused => …)`, mount `inbox.pull` (pull mode), then `inbox.start()`.
 */
import { resolve } from 'node:path';
import type { Config } from '../../core/config/schema.js';
import { type Clock, systemClock } from '../../core/di/clock.js';
import { type PauseMeter, timeOf } from '../../core/di/pause-meter.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { IncomingOf } from '../../core/protocol/frames.js';
import { CHECKPOINT_STOP_MIN_MS, Checkpointer } from '../../core/store/checkpointer.js';
import { type Database, databasePath, openDatabase, storeOpenFailed } from '../../core/store/database.js';
import type { RandomSource } from '../../core/transport/backoff.js';
import type { ExecuteAction } from '../delivery/action-runner.js';
import { Delivery } from '../delivery/delivery.js';
import type { PullDelivery } from '../delivery/pull-delivery.js';
import type { DeadLetter, DeadLetterSummary } from './dead-letters.js';
import { bufferDedupeKey } from './dedupe-key.js';
import { acceptLateAck, deliveryLedger } from './delivery-ledger.js';
import type { IngestPlugins } from './frame-processor.js';
import { InboxPruning, reportUpkeepFailed } from './inbox-pruning.js';
import { type InboxStats, inboxStats } from './inbox-stats.js';
import { InboxStore } from './inbox-store.js';
import { Ingest, type IngestRoutes } from './ingest.js';
import { commitInterrupt, type InterruptParts } from './interrupt-commit.js';
import { prepareStore } from './maintenance.js';
import { actionOutbox } from './outbox-table.js';

export type { InboxStats } from './inbox-stats.js';

import { FreshEnvelopes } from './fresh-envelopes.js';
import { type ReplayResult, replayDeadLetter } from './replay.js';
import { WriteBatcher } from './write-batcher.js';

/** Everything the inbox needs. */
export interface InboxOpenOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  /** A handle on the store's database to share (not closed by the inbox); default: its own. */
  readonly db?: Database;
  /** The plugin host (`convertForward`, `runInbound`). */
  readonly plugins: IngestPlugins;
  /** Send `inbound_ack{bufferId}` (`RelayClient.ackInbound`). */
  readonly ack: (bufferId: string) => boolean;
  /** The API token: signs push requests. */
  readonly apiToken: string;
  /** Execute an action from a push response body, as `POST /v1/actions` would. */
  readonly executeAction: ExecuteAction;
  readonly random?: RandomSource;
  readonly pullKeepAliveMs?: number;
  /** Upkeep interval (pruning, replay requests from the CLI), ms; default 5 s. */
  readonly maintenanceIntervalMs?: number;
}

/** The inbox of one sidecar. */
export class Inbox {
  /** Pass to `RelayClient.setRoutes`. */
  readonly routes: IngestRoutes;
  /** Pull mode only: for `GET /v1/events` and `POST /v1/events/{id}/ack`. */
  readonly pull: PullDelivery | undefined;
  private readonly ingest: Ingest;
  private readonly delivery: Delivery;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly timer: NodeJS.Timeout;
  private readonly replaying = new Set<string>();
  private readonly batcher: WriteBatcher;
  /** Envelopes of rows just committed, so their first attempt needs no read. */
  private readonly fresh = new FreshEnvelopes();
  /** WAL checkpoints on their own thread (only when the inbox opened the file itself). */
  private readonly checkpointer: Checkpointer | undefined;
  private readonly pruning: InboxPruning;
  private closing: Promise<void> | undefined;
  /** Where an interrupt committed directly goes. */
  private readonly interrupts: InterruptParts;

  private constructor(
    private readonly opts: InboxOpenOptions,
    readonly store: InboxStore,
    private readonly ownsDb: boolean,
  ) {
    const { config, metrics } = opts;
    this.clock = opts.clock ?? systemClock;
    this.batcher = new WriteBatcher(store.db, { intervalMs: config.inbox.groupCommitMs });
    this.log = opts.log.child({ component: 'inbox' });
    const now = () => this.clock.now();
    this.pruning = new InboxPruning({
      store,
      limits: config.inbox,
      clock: this.clock,
      log: this.log,
      metrics,
      closing: () => this.closing !== undefined,
    });
    store.outbox.onSize((size) => metrics.outboxDepth.set(size));
    this.delivery = new Delivery({
      ...opts,
      clock: this.clock,
      ledger: deliveryLedger({
        store,
        batcher: this.batcher,
        fresh: this.fresh,
        now,
        log: this.log,
        maxOutbox: config.agent.maxResponseActions,
      }),
      outbox: actionOutbox(store.outbox, this.batcher, now),
      lateAck: (id) => this.lateAck(id),
    });
    this.pull = this.delivery.pull;
    this.interrupts = { store, scheduler: this.delivery.scheduler, metrics, clock: this.clock };
    this.ingest = new Ingest({
      ...opts,
      store,
      now,
      session: config.session,
      maxPending: config.inbox.maxIngestPending,
      // leave half the pool queue to outbound hooks (/v1/actions)
      maxInPlugins: Math.max(1, Math.floor(config.pool.maxQueue / 2)),
      onCommitted: (rows, envelopes) => {
        this.fresh.add(rows, envelopes);
        this.delivery.scheduler.enqueue(rows);
        this.pruning.boundDedupe();
      },
      onInterrupt: (frame) => this.commitConnectorInterrupt(frame),
    });
    this.routes = this.ingest.routes;
    const queued = store.events.queued();
    metrics.inboxDepth.set(queued.length);
    this.delivery.scheduler.enqueue(queued); // held until start()
    this.timer = setInterval(() => this.upkeep(), opts.maintenanceIntervalMs ?? 5_000);
    this.timer.unref();
    this.checkpointer = ownsDb ? Checkpointer.start(store.db.name, this.log, metrics) : undefined;
  }

  /**
   * Open the inbox in `config.dataDir` (or on `db`), migrate, and re-queue what was not delivered
   * (held until {@link start}). Throws `CORE_ERR_STORE_OPEN_FAILED`.
   */
  static open(opts: InboxOpenOptions): Inbox {
    const db =
      opts.db ?? openDatabase(resolve(databasePath(opts.config.dataDir)), opts.config.inbox.pageCacheMb);
    try {
      prepareStore(db, !opts.db, opts.log.child({ component: 'inbox' }));
      return new Inbox(opts, new InboxStore(db, { maxAttempts: opts.config.inbox.maxAttempts }), !opts.db);
    } catch (err) {
      if (!opts.db) db.close();
      throw storeOpenFailed(`the inbox in ${db.name}`, err);
    }
  }

  /** Begin delivering to the agent (rows re-queued at open, and stored response actions, included). */
  start(): void {
    this.delivery.start();
    this.upkeep();
  }

  /** Be told when ingest is full (pause reading the socket) and when it has room again. */
  onBackpressure(listener: (paused: boolean) => void): void {
    this.ingest.onBackpressure(listener);
  }

  /**
   * Commit an interrupt directly (origin `local`), delivered ahead of the session's queued
   * messages; returns its delivery id. The sidecar itself takes interrupts only from the connector
   * (`interrupt_inbound`; `POST /v1/interrupt` sends the `interrupt` frame, docs/decisions.md):
   * this is the seam for an embedder or a test running an inbox without a connector. Throws
   * `RelayError` `CORE_ERR_INBOX_COMMIT_FAILED` when closed or when the store fails.
   */
  submitInterrupt(sessionKey: string, reason: string | null): string {
    if (this.closing) throw new RelayError('CORE_ERR_INBOX_COMMIT_FAILED', 'the inbox is closed');
    try {
      return commitInterrupt(this.interrupts, sessionKey, null, reason, 'local');
    } catch (err) {
      throw new RelayError('CORE_ERR_INBOX_COMMIT_FAILED', 'the interrupt could not be committed', {
        cause: err,
      });
    }
  }

  /**
   * True while received frames wait for the store to take their commit (a full disk, an I/O
   * error), or once the store file was replaced ({@link storeReplaced}): they are held unacked
   * and retried; `/readyz` answers 503.
   */
  get storeFailing(): boolean {
    return this.ingest.storeFailing || this.store.replaced;
  }

  /** True once the store file was replaced or deleted while running: only a restart ends it. */
  get storeReplaced(): boolean {
    return this.store.replaced;
  }

  /** Figures for `/v1/status`. */
  stats(): InboxStats {
    return inboxStats(this.store, this.delivery, this.clock.now());
  }

  /** The latest dead letters, newest first. */
  deadLetters(limit = 50): DeadLetterSummary[] {
    return this.store.deadLetters.list(limit);
  }

  /** One dead letter with its (secret-free) payload. */
  deadLetter(id: string): DeadLetter | undefined {
    return this.store.deadLetters.get(id);
  }

  /** Put a dead letter back: a delivery is queued again, a frame runs through the plugins again. */
  replay(id: string): ReplayResult {
    if (this.closing) return 'unknown';
    return replayDeadLetter(id, {
      store: this.store,
      ingest: this.ingest,
      scheduler: this.delivery.scheduler,
      metrics: this.opts.metrics,
      log: this.log,
      now: this.clock.now(),
      replaying: this.replaying,
    });
  }

  /**
   * The shutdown's step while the socket is still open: frames already taken commit (buffered
   * ones are acked), no new deliveries start, and deliveries in flight finish with their
   * response actions, within `budgetMs`. Frames still arriving are taken; {@link close}, after
   * the socket has closed, commits them. Resolves with the deliveries (and response-action
   * chains) still unfinished when the budget ran out. Delivery's waits run on `meter`'s time.
   */
  async quiesce(budgetMs: number, meter?: PauseMeter): Promise<number> {
    const now = timeOf(meter);
    const deadline = now() + budgetMs;
    await this.ingest.settle(budgetMs, meter);
    return this.delivery.quiesce(Math.max(0, deadline - now()), meter);
  }

  /**
   * Stop taking frames and scheduling, let in-flight work finish within `budgetMs` (default half
   * the shutdown budget), then release what the inbox opened. Idempotent. Budgets here (and in
   * {@link quiesce}) run on the monotonic clock: a wall clock stepped forward during the close cut
   * them to nothing (a live frame still in its plugins was abandoned, lost), one stepped back
   * stretched them by the step; on `meter`'s time when given (the drain's, less its pauses).
   */
  close(budgetMs = this.opts.config.shutdown.budgetMs / 2, meter?: PauseMeter): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      const now = timeOf(meter);
      const deadline = now() + budgetMs;
      const left = () => Math.max(0, deadline - now());
      await this.ingest.close(left(), meter);
      await this.delivery.close(left(), meter);
      this.batcher.close();
      if (this.ownsDb) this.store.db.close();
      await this.checkpointer?.stop(Math.max(CHECKPOINT_STOP_MIN_MS, left()), meter);
    })();
    return this.closing;
  }

  /** An `interrupt_inbound`; one carrying a `bufferId` (off-contract) is deduped by it and acked. */
  private commitConnectorInterrupt(frame: IncomingOf<'interrupt_inbound'>): void {
    const bufferId = frame.bufferId ?? undefined;
    const key = bufferId === undefined ? undefined : bufferDedupeKey(bufferId);
    const chatId = frame.chat_id || null;
    commitInterrupt(this.interrupts, frame.session_key, chatId, null, 'interrupt_inbound', key);
    if (bufferId !== undefined) this.opts.ack(bufferId);
  }

  /** Pull: an ack for an id not outstanding (sent before a restart, or acked twice). */
  private lateAck(id: string): 'acked' | 'unknown' {
    const verdict = acceptLateAck(this.store.events, id, this.clock.now());
    if (verdict === 'unknown') return 'unknown';
    if (verdict === 'acked-now') {
      this.opts.metrics.inboxDepth.dec();
      this.opts.metrics.deliveries.inc({ outcome: 'delivered' });
      this.delivery.scheduler.skip(id);
    }
    return 'acked';
  }

  private upkeep(): void {
    if (this.closing) return;
    try {
      this.pruning.due(this.clock.now());
      for (const id of this.store.deadLetters.replayRequested()) {
        if (!this.replaying.has(id)) this.replay(id);
      }
    } catch (err) {
      reportUpkeepFailed(this.log, this.opts.metrics, err);
    }
  }
}
