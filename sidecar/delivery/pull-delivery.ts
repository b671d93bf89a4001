/**
 * Pull delivery (agent-api.md): the agent holds one SSE stream (`GET /v1/events`) and confirms
 * each delivery with `POST /v1/events/{id}/ack`. A delivery stays outstanding until acked; every
 * outstanding delivery is sent again (attempt + 1) when a stream (re)attaches. One stream at a
 * time: a new one replaces and ends the old. The number outstanding is bounded by the
 * scheduler's slots (`agent.maxInFlight` in pull mode).
 */
import type { Clock } from '../../core/di/clock.js';
import { armWorkBound, type PauseMeter } from '../../core/di/pause-meter.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import {
  beginAttempt,
  type DeliveryJob,
  type DeliveryResult,
  type DeliveryTarget,
} from './delivery-target.js';
import { sseComment, sseEvent, sseRetry } from './sse.js';
import { StreamTurns } from './stream-turns.js';

/** The stream the agent API hands over (an HTTP response in SSE mode). */
export interface PullStream {
  write(chunk: string): boolean;
  end(): void;
  onClose(cb: () => void): void;
}

/** Pull settings. */
export interface PullOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Where failures are counted (relay_errors_total). */
  readonly metrics?: Metrics;
  /** Keep-alive comment interval, ms. 15 s. */
  readonly keepAliveMs?: number;
  /** An ack for an id not outstanding here (e.g. sent before a restart): the inbox decides. */
  readonly lateAck?: (id: string) => 'acked' | 'unknown';
}

/** Most characters joined into one write of the stream: 1 Mi (large enough to batch a burst). */
const WRITE_BATCH_CHARS = 1024 * 1024;

interface Outstanding {
  readonly job: DeliveryJob;
  readonly resolve: (result: DeliveryResult) => void;
}

/** Delivery over one SSE stream with explicit acks. */
export class PullDelivery implements DeliveryTarget {
  private readonly outstanding = new Map<string, Outstanding>();
  private readonly log: Logger;
  private stream: PullStream | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private closed = false;
  /** Chunks written this turn, not yet handed to their stream. */
  private out: { readonly stream: PullStream; readonly chunks: string[] } | undefined;
  /** The shutdown's waits for acks ({@link acksIn}), woken when nothing is left to wait for. */
  private readonly ackWaiters = new Set<() => void>();
  /** Notices two consumers replacing each other's stream. */
  private readonly turns: StreamTurns;

  constructor(private readonly opts: PullOptions) {
    this.log = opts.log.child({ component: 'pull-delivery' });
    this.turns = new StreamTurns(opts.clock, this.log, opts.metrics);
  }

  /** Deliveries sent (or waiting for a stream) and not yet acked. */
  get unacked(): number {
    return this.outstanding.size;
  }

  /** True while an agent stream is attached. */
  get attached(): boolean {
    return this.stream !== undefined;
  }

  /**
   * The shutdown's wait for the agent to ack what it was sent (the scheduler is stopped, so
   * nothing new is sent meanwhile): ends when every delivery is acked, the stream closes (nobody
   * is left to ack) or `budgetMs` runs out. Resolves with the deliveries still unacked when the
   * budget ran out, 0 otherwise. Without it, an agent mid-turn at a stop had its reply and ack
   * refused by the API closing milliseconds later, and replied again after the restart. On
   * `meter`'s time when given, as {@link InFlight.idle}.
   */
  acksIn(budgetMs: number, meter?: PauseMeter): Promise<number> {
    if (!this.awaitingAcks()) return Promise.resolve(0);
    // an agent that never acks holds the stop for the budget: say why it is slow
    this.log.info({ unacked: this.outstanding.size, budgetMs }, 'shutdown waits for the agent to ack');
    return new Promise((resolve) => {
      const done = () => {
        bound.clear();
        this.ackWaiters.delete(done);
        resolve(0);
      };
      const bound = armWorkBound(
        this.opts.clock,
        budgetMs,
        () => {
          this.ackWaiters.delete(done);
          resolve(this.outstanding.size);
        },
        meter,
      );
      this.ackWaiters.add(done);
    });
  }

  /** Hold the delivery until acked; send it now when a stream is attached. Never rejects. */
  deliver(job: DeliveryJob): Promise<DeliveryResult> {
    if (this.closed) return Promise.resolve({ kind: 'cancelled' });
    return new Promise((resolve) => {
      this.outstanding.set(job.id, { job, resolve });
      this.outstandingChanged();
      if (this.stream) this.send(this.stream, job.id);
    });
  }

  /** Make `stream` the agent's stream: end the previous one, re-send everything unacked. */
  attach(stream: PullStream, lastEventId?: string): void {
    if (this.closed) {
      stream.end();
      return;
    }
    const previous = this.stream;
    this.stream = stream;
    this.opts.metrics?.pullStreamAttached.set(1);
    if (previous) {
      this.opts.metrics?.pullStreamsReplaced.inc();
      this.turns.replaced(this.outstanding.size);
    }
    stream.onClose(() => {
      if (this.stream === stream) {
        this.stream = undefined;
        this.opts.metrics?.pullStreamAttached.set(0);
        this.log.info({ unacked: this.outstanding.size }, 'agent stream closed');
        this.wakeAckWaiters();
      }
    });
    this.flushOut();
    previous?.end();
    // Last-Event-ID is only logged: at-least-once means every unacked delivery goes again
    this.log.info(
      { lastEventId, unacked: this.outstanding.size, replaced: !!previous },
      'agent stream attached',
    );
    this.write(stream, sseRetry(1000));
    for (const id of [...this.outstanding.keys()]) {
      if (this.stream !== stream) break;
      this.send(stream, id);
    }
    this.startKeepAlive();
  }

  /** The agent confirmed `id`. */
  ack(id: string): 'acked' | 'unknown' {
    const entry = this.outstanding.get(id);
    if (!entry) return this.opts.lateAck?.(id) ?? 'unknown';
    this.outstanding.delete(id);
    entry.resolve({ kind: 'delivered', actions: [] });
    this.outstandingChanged();
    return 'acked';
  }

  /** End the stream; outstanding deliveries end `cancelled` and stay queued on disk. */
  async close(): Promise<void> {
    this.closed = true;
    this.opts.clock.clearTimeout(this.keepAlive);
    this.keepAlive = undefined;
    const stream = this.stream;
    this.stream = undefined;
    this.opts.metrics?.pullStreamAttached.set(0);
    this.flushOut();
    stream?.end();
    for (const { resolve } of this.outstanding.values()) resolve({ kind: 'cancelled' });
    this.outstanding.clear();
    this.outstandingChanged();
  }

  /** Write one delivery (a new attempt each time). */
  private send(stream: PullStream, id: string): void {
    const entry = this.outstanding.get(id);
    if (!entry) return;
    const body = beginAttempt(entry.job);
    if (typeof body === 'string') {
      this.write(stream, sseEvent(id, entry.job.type, body));
      return;
    }
    // gone, or the store could not be read: the scheduler retries after a backoff (before, the
    // delivery waited for the agent's next stream, and its session with it)
    this.outstanding.delete(id);
    entry.resolve(body);
    this.outstandingChanged();
  }

  /** The unacked count changed: the gauge follows, and a shutdown waiting for acks may be done. */
  private outstandingChanged(): void {
    this.opts.metrics?.pullUnacked.set(this.outstanding.size);
    this.wakeAckWaiters();
  }

  /** An ack may still come: a stream is attached and something sent on it is unacked. */
  private awaitingAcks(): boolean {
    return !this.closed && this.stream !== undefined && this.outstanding.size > 0;
  }

  /** End the shutdown's waits for acks once there is nothing left to wait for. */
  private wakeAckWaiters(): void {
    if (this.ackWaiters.size === 0 || this.awaitingAcks()) return;
    for (const wake of [...this.ackWaiters]) wake();
  }

  /**
   * Queue `chunk` for `stream`; everything queued in one event-loop turn goes out in one write
   * (one syscall for a burst of deliveries instead of one each).
   */
  private write(stream: PullStream, chunk: string): void {
    if (this.out && this.out.stream !== stream) this.flushOut();
    if (!this.out) {
      this.out = { stream, chunks: [] };
      setImmediate(() => this.flushOut());
    }
    this.out.chunks.push(chunk);
  }

  /**
   * Write what is queued now, in writes of at most {@link WRITE_BATCH_CHARS} (a larger chunk
   * alone): joined whole, a burst of large deliveries (a stream attaching with many unacked)
   * passed the longest string V8 can hold, the join threw, and every one of them was dropped
   * while still counted as sent, so the agent waited for them until its next reconnect.
   */
  private flushOut(): void {
    const out = this.out;
    this.out = undefined;
    if (!out || out.chunks.length === 0) return;
    try {
      let batch: string[] = [];
      let size = 0;
      for (const chunk of out.chunks) {
        if (size > 0 && size + chunk.length > WRITE_BATCH_CHARS) {
          out.stream.write(batch.join(''));
          batch = [];
          size = 0;
        }
        batch.push(chunk);
        size += chunk.length;
      }
      out.stream.write(batch.join(''));
    } catch (err) {
      // what was not written would never come: end the stream, so the agent's reconnect gets
      // every unacked delivery again
      out.stream.end();
      const fields = { error: errorMessage(err) };
      reportError(
        this.log,
        this.opts.metrics,
        'CORE_ERR_DELIVERY_FAILED',
        'agent stream write failed',
        fields,
      );
    }
  }

  private startKeepAlive(): void {
    if (this.keepAlive) return;
    const tick = () => {
      this.keepAlive = undefined;
      if (this.closed || !this.stream) return;
      this.write(this.stream, sseComment('keep-alive'));
      this.keepAlive = this.opts.clock.setTimeout(tick, this.opts.keepAliveMs ?? 15_000);
    };
    this.keepAlive = this.opts.clock.setTimeout(tick, this.opts.keepAliveMs ?? 15_000);
  }
}
