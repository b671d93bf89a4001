/**
 * What one attempt's result means, made durable: delivered (then the response actions),
 * rejected (dead-lettered after `agent.maxRejections`), or a retry after a jittered backoff.
 */
import type { Clock } from '../../core/di/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import { type BackoffBounds, backoffDelay, type RandomSource } from '../../core/transport/backoff.js';
import type { QueuedDelivery } from '../inbox/event-table.js';
import type { DeliveryLedger, DeliveryResult } from './delivery-target.js';
import type { InFlight } from './in-flight.js';

/** How attempts are settled: shared by the scheduler's options and the settle context. */
export interface SettlePolicy {
  readonly ledger: DeliveryLedger;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Retry backoff (`agent.retryBaseMs` → `agent.retryMaxMs`). */
  readonly retry: BackoffBounds;
  /** 4xx rejections before a delivery is dead-lettered (`agent.maxRejections`). */
  readonly maxRejections: number;
  readonly random?: RandomSource;
  /** A delivery whose response held actions was marked delivered, its actions stored: run them. */
  readonly onActions: (entry: QueuedDelivery) => void;
}

/** What settling needs. */
export interface SettleContext extends SettlePolicy {
  readonly inFlight: InFlight;
  /** True while the agent is known unreachable: one line said so, each failure is logged at debug. */
  readonly quiet?: () => boolean;
}

/** Apply `result` durably. Returns the wait before the next attempt, ms, or undefined when done. */
export async function settleAttempt(
  ctx: SettleContext,
  entry: QueuedDelivery,
  result: DeliveryResult,
  failures: number,
): Promise<number | undefined> {
  const { ledger, metrics } = ctx;
  switch (result.kind) {
    case 'delivered':
      metrics.deliveries.inc({ outcome: 'delivered' });
      markDelivered(ctx, entry, result.actions);
      return undefined;
    case 'gone':
    case 'cancelled':
      return undefined;
    case 'rejected': {
      metrics.deliveries.inc({ outcome: 'rejected' });
      const rejections = (await ledger.rejected(entry.id)) ?? 0;
      const hint = REJECTION_HINTS[result.status];
      // the hint from the first rejection on: the line an operator sees before the dead letter
      const fields = {
        id: entry.id,
        sessionKey: entry.sessionKey,
        status: result.status,
        rejections,
        ...(hint ? { hint } : {}),
      };
      if (rejections < ctx.maxRejections) {
        reportError(
          ctx.log,
          ctx.metrics,
          'CORE_ERR_DELIVERY_FAILED',
          'delivery rejected by the agent',
          fields,
        );
        return backoff(ctx, failures);
      }
      const message = `the agent answered ${result.status} ${rejections} times${hint ? `: ${hint}` : ''}`;
      if (await ledger.deadLetter(entry.id, 'CORE_ERR_DELIVERY_REJECTED', message)) metrics.inboxDepth.dec();
      metrics.deliveries.inc({ outcome: 'dead' });
      reportError(ctx.log, metrics, 'CORE_ERR_DELIVERY_REJECTED', 'delivery dead-lettered', fields);
      return undefined;
    }
    case 'retry': {
      metrics.deliveries.inc({ outcome: 'failed' });
      metrics.deliveryRetries.inc();
      // the agent may be down for long: the first failure and every tenth are worth a warning,
      // none while the health gate's one line says the agent is unreachable
      const fields = {
        id: entry.id,
        sessionKey: entry.sessionKey,
        reason: result.reason,
        status: result.status,
        failures,
      };
      const level = failures % 10 === 0 && ctx.quiet?.() !== true ? 'warn' : 'debug';
      reportError(ctx.log, metrics, 'CORE_ERR_DELIVERY_FAILED', 'delivery failed, will retry', fields, level);
      return Math.min(ctx.retry.maxMs, Math.max(backoff(ctx, failures), result.retryAfterMs ?? 0));
    }
  }
}

/**
 * Why an agent answers a delivery with these statuses, when it is commonly the agent's set-up
 * rather than the delivery (operations.md, troubleshooting): said with the dead letter, which the
 * operator reads in `dead-letters list`, so the fix is found before the replay.
 */
const REJECTION_HINTS: Readonly<Record<number, string>> = {
  401: "an agent verifying signatures refuses them: give it this sidecar's API token (SIDECAR_API_TOKEN) and a clock within 5 minutes",
  404: "no route at AGENT_URL's path: correct AGENT_URL",
  409: 'a delivery the agent already handled must be answered 2xx again (at-least-once)',
};

/**
 * Mark delivered without holding up the session: its next delivery may begin at once, and its
 * attempt count is then written in the same group transaction as this mark, with the response's
 * actions (if any) in the outbox. They run once the mark is durable.
 */
function markDelivered(ctx: SettleContext, entry: QueuedDelivery, actions: readonly unknown[]): void {
  const { metrics } = ctx;
  const response = actions.length > 0 ? { sessionKey: entry.sessionKey, actions } : undefined;
  const durable = ctx.ledger.delivered(entry.id, response).then(
    (createdAt) => {
      if (createdAt === undefined) return;
      metrics.inboxDepth.dec();
      metrics.deliveryLatency.observe(Math.max(0, ctx.clock.now() - createdAt) / 1000);
      if (response) ctx.onActions(entry);
    },
    (err: unknown) => {
      // the row stays pending on disk: delivered again (same id) after a restart
      reportError(ctx.log, metrics, 'CORE_ERR_INBOX_COMMIT_FAILED', 'delivery state not saved', {
        id: entry.id,
        error: errorMessage(err),
      });
    },
  );
  ctx.inFlight.track(durable);
}

function backoff(ctx: SettleContext, failures: number): number {
  return backoffDelay(failures, ctx.retry, ctx.random);
}
