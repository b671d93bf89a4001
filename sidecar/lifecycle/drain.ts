/**
 * Graceful shutdown, in the order that loses nothing: ask the connector to buffer (going_idle,
 * bounded), commit what already arrived, finish deliveries in flight (pull: wait for the attached
 * agent's acks of what it was sent), wait for the results of
 * outbound calls in flight (bounded), then close the socket (calls still pending resolve `relay
 * transport closed`, ambiguous), close the API (before the store it reads), commit what arrived
 * until the socket closed (a connector that missed the ack keeps sending live frames, which it
 * never redelivers), and close the pool.
 *
 * Every step is bounded by one deadline (`budgetMs` from the start), and a share of the budget
 * is kept for the closing steps, so a connector that never acks or a partitioned network cannot
 * push the whole sequence past the budget.
 */
import type { Config } from '../../core/config/schema.js';
import { heldClock } from '../../core/di/clock.js';
import { armDeadline } from '../../core/di/deadline.js';
import { armWorkDeadline, type PauseMeter, startPauseMeter } from '../../core/di/pause-meter.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import { CHECKPOINT_STOP_MIN_MS } from '../../core/store/checkpointer.js';

/** The parts of a sidecar that drain touches. */
export interface Drainable {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly client: {
    readonly state: string;
    goingIdle(timeoutMs?: number): Promise<boolean>;
    /** Resolves once every outbound call awaiting its result now has it. */
    outboundSettled(): Promise<void>;
    /** Closes the socket; its close grace runs on `meter`'s time. */
    stop(meter?: PauseMeter): Promise<void>;
  };
  readonly plugins: { close(): Promise<void> };
  readonly inbox: {
    /**
     * Resolves with the deliveries (push: in flight; pull: unacked) still unfinished when
     * `budgetMs` of `meter`'s time ran out (0: none).
     */
    quiesce(budgetMs: number, meter?: PauseMeter): Promise<number>;
    /** Takes up to `budgetMs` and then {@link CHECKPOINT_STOP_MIN_MS} for the checkpoint thread. */
    close(budgetMs?: number, meter?: PauseMeter): Promise<void>;
  };
  readonly api: { close(budgetMs?: number, meter?: PauseMeter): Promise<void> };
}

/** Share of the budget kept for closing socket, pool and API (at most {@link CLOSE_RESERVE_MAX_MS}). */
export const CLOSE_RESERVE_SHARE = 0.25;
/** Upper bound of the closing reserve, ms: the socket's close grace is 1 s. */
export const CLOSE_RESERVE_MAX_MS = 1_000;
/** Extra wait for a step that bounds itself (inbox, API) before it counts as cut off, ms. */
const TIMER_SLACK_MS = 50;

/** The part of `budgetMs` kept for the closing steps. Pure. */
export function closeReserveMs(budgetMs: number): number {
  return Math.min(CLOSE_RESERVE_MAX_MS, Math.floor(Math.max(0, budgetMs) * CLOSE_RESERVE_SHARE));
}

/**
 * Resolve true when `work` fulfils within `ms` (monotonic; on `meter`'s time when given: the
 * drain's, less the process's pauses), false when the time runs out first (the work keeps
 * running); reject with its error when it fails first.
 */
export function within(work: Promise<unknown>, ms: number, meter?: PauseMeter): Promise<boolean> {
  return new Promise((resolve, reject) => {
    // late after a freeze, it first reads what came meanwhile: cut off at once, the next step
    // (the socket's stop) answered outbound calls "closed" with their results unread; on a meter
    // that leaves out the pauses, a timer late by one waits for the rest of the step
    const fire = () => resolve(false);
    const deadline = meter
      ? armWorkDeadline(heldClock, meter, ms, fire)
      : armDeadline(heldClock, Math.max(0, ms), fire);
    work.then(
      () => {
        deadline.clear();
        resolve(true);
      },
      (err: unknown) => {
        deadline.clear();
        reject(err);
      },
    );
  });
}

/**
 * Run the shutdown sequence within `budgetMs` of `meter`'s time (default: a meter of its own);
 * never throws. The CLI passes the meter of its forced exit, so both leave out the same pauses.
 */
export async function drain(sc: Drainable, budgetMs: number, shared?: PauseMeter): Promise<void> {
  const log = sc.log.child({ component: 'shutdown' });
  // the monotonic clock: a step of the wall clock during the drain (an NTP correction) must
  // neither cut the later steps to nothing nor stretch them past the CLI's forced exit. Less the
  // pauses: a freeze (SIGSTOP, a paused container) did none of the drain's work, and charged to
  // the budget it cut every later step short at the resume (docs/decisions.md, Time and clocks)
  const started = performance.now();
  const meter = shared ?? startPauseMeter();
  const now = () => meter.now();
  const deadline = now() + budgetMs;
  const left = () => Math.max(0, deadline - now());
  const reserve = closeReserveMs(budgetMs);
  // what the work steps may use: everything but the closing reserve
  const forWork = () => Math.max(0, left() - reserve);
  /** One step: bounded by `ms`; a failure is reported and never skips the later closes. */
  const step = async (name: string, work: () => Promise<unknown>, ms: number) => {
    const code = 'CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED';
    try {
      if (!(await within(work(), ms, meter))) {
        reportError(log, sc.metrics, code, 'shutdown step cut off by the budget', { step: name, budgetMs });
      }
    } catch (err) {
      const error = errorMessage(err);
      reportError(log, sc.metrics, code, 'shutdown step failed', { step: name, error });
    }
  };
  log.info({ budgetMs }, 'shutdown started');
  if (sc.client.state === 'ready') {
    // deliveries in flight keep running during this wait, so it costs them nothing
    await step('going_idle', () => goingIdle(sc, log, forWork()), forWork() + TIMER_SLACK_MS);
  }
  // ingest commits what arrived (and is still reading); deliveries in flight and their response
  // actions finish while the socket can carry them (pull: the attached agent acks what it was
  // sent, and its actions still reach the socket; closing the API at once refused the ack of an
  // agent mid-turn, and it replied again after the restart). The inbox bounds its own wait, so one that
  // ran out of budget is reported here: a delivery the agent had not answered is made again
  // after the next start; response actions not run by then stay stored and run after it. Its
  // waits run on the meter: on plain timers a freeze ended them at the resume, with the agent's
  // answer unread and its reply's actions stopped before they could go out
  const quiesce = async () => {
    const inFlight = await sc.inbox.quiesce(forWork(), meter);
    if (inFlight === 0) return;
    const code = 'CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED';
    reportError(log, sc.metrics, code, 'shutdown step cut off by the budget', {
      step: 'deliveries',
      inFlight,
      budgetMs,
    });
  };
  await step('inbox', quiesce, forWork() + reserve / 2);
  // calls whose frames are out get their results while the socket can carry them: stopped now,
  // each would answer `relay transport closed` (ambiguous) with its answer milliseconds away
  await step('outbound', () => sc.client.outboundSettled(), forWork());
  // calls still pending resolve `relay transport closed` (ambiguous) at once; then the close
  // handshake, with half the rest at most: a peer that never answers must leave time for the pool
  await step('socket', () => sc.client.stop(meter), left() / 2);
  // the API before the store: a call arriving while the inbox closed found its database closed
  // (500, logged as a handler failure). Calls in flight end here (pending outbound calls were
  // answered when the socket stopped), and an agent's later call is refused, not failed.
  await step('api', () => sc.api.close(left() / 3, meter), left() / 3 + TIMER_SLACK_MS);
  // frames that arrived until the socket closed go through the pool, so it closes after them.
  // Past its share the inbox gives the checkpoint thread its minimum: allowed for here, or the
  // step was reported cut while the thread was ending normally
  const share = left() / 2;
  const closeMs = share + CHECKPOINT_STOP_MIN_MS + TIMER_SLACK_MS;
  await step('inbox_close', () => sc.inbox.close(share, meter), closeMs);
  await step('plugins', () => sc.plugins.close(), left());
  if (!shared) meter.stop();
  const pausedMs = Math.round(meter.paused());
  log.info({ ms: Math.round(performance.now() - started), pausedMs }, 'shutdown complete');
}

/**
 * Ask the connector to buffer; a missing ack is noted, not thrown. The client already reported
 * it with its code (`CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT`), or the socket closed meanwhile
 * (logged as such): a second report here counted one failure twice.
 */
async function goingIdle(sc: Drainable, log: Logger, maxMs: number): Promise<void> {
  const acked = await sc.client.goingIdle(Math.min(sc.config.relay.shutdownGoingIdleTimeoutMs, maxMs));
  if (!acked) log.info('going_idle not acknowledged; closing anyway');
}
