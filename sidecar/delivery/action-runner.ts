/**
 * Actions from push response bodies (`{"actions": [...]}`), executed in order as if posted to
 * `/v1/actions`. Actions of one session run one after another across deliveries (a reply to
 * message 1 goes out before a reply to message 2); sessions run in parallel. A failing action
 * is logged and counted and never causes a re-delivery: the delivery is already durable.
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';

/** Execute one raw action as `/v1/actions` would (validation included); may reject. */
export type ExecuteAction = (raw: unknown) => Promise<unknown>;

/** Per-session ordered execution of response actions. */
export class ActionRunner {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly log: Logger;

  constructor(
    private readonly execute: ExecuteAction,
    log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.log = log.child({ component: 'action-runner' });
  }

  /** Sessions with actions still running. */
  get busy(): number {
    return this.chains.size;
  }

  /** Queue `actions` of delivery `id` behind the session's earlier ones. Returns at once. */
  run(sessionKey: string, id: string, actions: readonly unknown[]): void {
    if (actions.length === 0) return;
    const previous = this.chains.get(sessionKey) ?? Promise.resolve();
    const next = previous.then(() => this.runAll(id, actions));
    this.chains.set(sessionKey, next);
    void next.finally(() => {
      if (this.chains.get(sessionKey) === next) this.chains.delete(sessionKey);
    });
  }

  /** Resolve when every queued action has run, or after `budgetMs`. */
  async idle(budgetMs: number): Promise<void> {
    if (this.chains.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, budgetMs);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.chains.values()]), timeout]);
    clearTimeout(timer);
  }

  private async runAll(id: string, actions: readonly unknown[]): Promise<void> {
    for (const [index, action] of actions.entries()) {
      try {
        await this.execute(action);
      } catch (err) {
        const op = action && typeof action === 'object' ? (action as { op?: unknown }).op : undefined;
        reportError(this.log, this.metrics, 'CORE_ERR_DELIVERY_ACTION_FAILED', 'response action failed', {
          id,
          index,
          op: typeof op === 'string' ? op : undefined,
          error: errorMessage(err),
        });
      }
    }
  }
}
