/**
 * The outbound correlator: matches `outbound_result` frames to waiting callers by `requestId`
 * and synthesises every result the contract defines when no answer can come (section 4). Each
 * waiter is resolved exactly once and removed with its timer, so nothing leaks: `pendingCount()`
 * is what the leak tests count.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../di/clock.js';
import { armDeadline, type Deadline } from '../di/deadline.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import {
  isEgressDeclined,
  type OutboundResult,
  OutboundResultSchema,
  SYNTHESISED,
  UNREADABLE_RESULT,
} from '../protocol/actions.js';
import { MAX_JSON_DEPTH } from '../protocol/json-depth.js';

/** The `outcome` label of `relay_outbound_results_total`. */
export type OutboundOutcome =
  | 'success'
  | 'failure'
  | 'egress_declined'
  | 'malformed'
  | 'timed_out'
  | 'connection_lost'
  | 'closed'
  | 'not_connected'
  | 'send_failed';

/** Correlator bounds. */
export interface CorrelatorOptions {
  /** No result within this ⇒ `timedOut` (ambiguous), ms. */
  readonly timeoutMs: number;
  /** Most waiters at once. */
  readonly maxPending: number;
  /**
   * Bytes read from the connector so far: a timeout that fires late (the process was frozen)
   * waits while they grow, so a result that arrived during the freeze is read first.
   */
  readonly inputProgress?: () => number;
}

interface Waiter {
  readonly op: string;
  /** `performance.now()` when tracked: a duration, so the monotonic clock (a wall step is no latency). */
  readonly startedAt: number;
  readonly deadline: Deadline;
  readonly resolve: (result: OutboundResult) => void;
}

/** A fresh `requestId`: 32 lowercase hex, a uuid4 without dashes. */
export function newRequestId(): string {
  return randomUUID().replaceAll('-', '');
}

/** How many timed-out requests are remembered, so a late result for one is reported. */
export const MAX_TIMED_OUT_REMEMBERED = 1_024;

/** Waiters for outbound results, keyed by requestId. */
export class Correlator {
  private readonly waiters = new Map<string, Waiter>();
  /**
   * Requests answered `timed out` (ambiguous), by id, with their op: the oldest forgotten first.
   * A result for one says what became of an action the agent was told may have been applied.
   */
  private readonly timedOut = new Map<string, string>();
  /** Callers of {@link whenSettled}: the ids still pending of those they wait for. */
  private watchers: { readonly ids: Set<string>; readonly resolve: () => void }[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: CorrelatorOptions,
  ) {}

  /** Waiters not yet resolved. */
  pendingCount(): number {
    return this.waiters.size;
  }

  /**
   * Resolves once every call pending now is resolved (at once when none is). Calls tracked later
   * do not hold it: under steady traffic it still ends.
   */
  whenSettled(): Promise<void> {
    if (this.waiters.size === 0) return Promise.resolve();
    const ids = new Set(this.waiters.keys());
    return new Promise((resolve) => this.watchers.push({ ids, resolve }));
  }

  /** True when another waiter would exceed `maxPending`. */
  full(): boolean {
    return this.waiters.size >= this.options.maxPending;
  }

  /** Wait for the result of a frame about to be written; resolves once, never rejects. */
  track(requestId: string, op: string): Promise<OutboundResult> {
    return new Promise<OutboundResult>((resolve) => {
      const { timeoutMs, inputProgress } = this.options;
      const deadline = armDeadline(this.clock, timeoutMs, () => this.timeout(requestId), {
        ...(inputProgress ? { progress: inputProgress } : {}),
      });
      this.waiters.set(requestId, { op, startedAt: performance.now(), deadline, resolve });
      this.metrics.outboundPending.set(this.waiters.size);
    });
  }

  /** An `outbound_result` arrived. False (and counted as ignored) when no one waits for it. */
  settle(requestId: string, raw: unknown): boolean {
    const waiter = this.waiters.get(requestId);
    if (!waiter && this.lateResult(requestId, raw)) return false;
    if (!waiter) {
      // Foreign ids (or a second copy of a result) are normal after a reconnect.
      this.metrics.framesIgnored.inc({ reason: 'unknown_request' });
      this.log.debug({ requestId: requestId.slice(0, 64) }, 'outbound_result for unknown requestId ignored');
      return false;
    }
    this.metrics.outboundLatency.observe({ op: waiter.op }, (performance.now() - waiter.startedAt) / 1000);
    if (raw === UNREADABLE_RESULT) {
      reportError(this.log, this.metrics, 'CORE_ERR_FRAME_SCHEMA', 'outbound_result unreadable', {
        type: 'outbound_result',
        op: waiter.op,
        reason: `nested more than ${MAX_JSON_DEPTH} levels deep`,
      });
      this.finish(requestId, SYNTHESISED.unreadable(), 'malformed');
      return true;
    }
    const result = normaliseResult(raw);
    if (!result) {
      reportError(this.log, this.metrics, 'CORE_ERR_FRAME_SCHEMA', 'outbound_result has a malformed result', {
        type: 'outbound_result',
        op: waiter.op,
      });
      // The connector answered, so the action may have been applied: ambiguous, never retried.
      this.finish(requestId, MALFORMED_RESULT(), 'malformed');
      return true;
    }
    this.finish(requestId, result, outcomeOf(result));
    return true;
  }

  /** Resolve one waiter with a synthesised result (e.g. its write failed). */
  fail(requestId: string, result: OutboundResult, outcome: OutboundOutcome): void {
    this.finish(requestId, result, outcome);
  }

  /** The socket carrying every pending frame is gone: all resolve `connectionLost` (ambiguous). */
  connectionLost(): number {
    return this.failAll(SYNTHESISED.connectionLost, 'connection_lost');
  }

  /**
   * The transport stops: all resolve `closed`, ambiguous. Every waiter's frame was handed to the
   * socket (a write refused at once resolves there), so the connector may have applied it.
   */
  closeAll(): number {
    return this.failAll(SYNTHESISED.closedPending, 'closed');
  }

  /** Count a result synthesised before anything was tracked (not connected, closed). */
  record(outcome: OutboundOutcome): void {
    this.metrics.outboundResults.inc({ outcome });
  }

  private timeout(requestId: string): void {
    const waiter = this.waiters.get(requestId);
    if (!waiter) return;
    reportError(this.log, this.metrics, 'CORE_ERR_OUTBOUND_TIMEOUT', 'outbound result timed out', {
      requestId,
      op: waiter.op,
      timeoutMs: this.options.timeoutMs,
    });
    this.finish(requestId, SYNTHESISED.timedOut(), 'timed_out');
    this.timedOut.set(requestId, waiter.op);
    if (this.timedOut.size > MAX_TIMED_OUT_REMEMBERED) {
      const oldest = this.timedOut.keys().next().value;
      if (oldest !== undefined) this.timedOut.delete(oldest);
    }
  }

  /**
   * A result for a call already answered `timed out`: logged at warn with what it says, since
   * the agent only heard "may have been applied" (at debug among unknown ids, an operator asked
   * whether the message went out had nothing to go on). False when the id did not time out.
   */
  private lateResult(requestId: string, raw: unknown): boolean {
    const op = this.timedOut.get(requestId);
    if (op === undefined) return false;
    this.timedOut.delete(requestId);
    this.metrics.framesIgnored.inc({ reason: 'late_result' });
    const result = normaliseResult(raw);
    const messageId = typeof result?.message_id === 'string' ? result.message_id.slice(0, 200) : undefined;
    this.log.warn(
      {
        requestId,
        op,
        outcome: result ? outcomeOf(result) : 'malformed',
        ...(messageId ? { messageId } : {}),
      },
      'outbound_result arrived after its call timed out',
    );
    return true;
  }

  private failAll(make: () => OutboundResult, outcome: OutboundOutcome): number {
    const ids = [...this.waiters.keys()];
    for (const id of ids) this.finish(id, make(), outcome);
    return ids.length;
  }

  private finish(requestId: string, result: OutboundResult, outcome: OutboundOutcome): void {
    const waiter = this.waiters.get(requestId);
    if (!waiter) return;
    this.waiters.delete(requestId);
    waiter.deadline.clear();
    this.metrics.outboundPending.set(this.waiters.size);
    this.metrics.outboundResults.inc({ outcome });
    waiter.resolve(result);
    if (this.watchers.length > 0) this.unwatch(requestId);
  }

  /** Tell the watchers `requestId` is resolved; resolve those left with nothing to wait for. */
  private unwatch(requestId: string): void {
    const left: typeof this.watchers = [];
    for (const watcher of this.watchers) {
      watcher.ids.delete(requestId);
      if (watcher.ids.size === 0) watcher.resolve();
      else left.push(watcher);
    }
    this.watchers = left;
  }
}

const MALFORMED_RESULT = (): OutboundResult => ({
  success: false,
  error: 'relay outbound result malformed',
  ambiguous: true,
});

/**
 * Validate a connector result; anything but an object is malformed. Numeric ids (Telegram message
 * ids are integers on the wire) are turned into strings first, because rejecting a result that
 * reports success would be worse.
 */
export function normaliseResult(raw: unknown): OutboundResult | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const fixed: Record<string, unknown> = { ...raw };
  for (const key of ['message_id', 'thread_id'] as const) {
    if (typeof fixed[key] === 'number' && Number.isFinite(fixed[key])) fixed[key] = String(fixed[key]);
  }
  const parsed = OutboundResultSchema.safeParse(fixed);
  return parsed.success ? parsed.data : undefined;
}

/** The outcome label of a connector result. */
export function outcomeOf(result: OutboundResult): OutboundOutcome {
  if (result.success === true) return 'success';
  return isEgressDeclined(result) ? 'egress_declined' : 'failure';
}
