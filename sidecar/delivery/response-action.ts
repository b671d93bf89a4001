/**
 * One action from a push response body (`{"actions": [...]}`), run like `POST /v1/actions`. The
 * agent cannot see the answer, so a refusal or a failed result becomes an error the action runner
 * logs and counts (`CORE_ERR_DELIVERY_ACTION_FAILED`).
 *
 * An answer that says nothing was sent because the relay had no connection (or the API was
 * busy) is not final here: an agent on `/v1/actions` decides whether to retry it, one replying in
 * its push response cannot, and its reply met every reconnect (a connector deploy) only to be
 * lost. Such an action waits for the connection, at most `waitMs` in all, and runs again. Only
 * those: an ambiguous answer (written, then the socket went) may have been applied and is final.
 *
 * The action is stored (the outbox): before each wait its started mark is cleared, and set again
 * before the next try. When the sidecar stops meanwhile (the relay `stopped`, or the runner
 * draining), an action that met no connection ends {@link ActionDeferred}: it stays stored and
 * runs after the next start.
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../core/di/clock.js';
import { armDeadline } from '../../core/di/deadline.js';
import type { Logger } from '../../core/log/logger.js';
import { SYNTHESISED } from '../../core/protocol/actions.js';
import type { ActionOutcome } from '../agent-api/action-pipeline.js';
import { ActionDeferred, type ActionTry, opOf } from './action-runner.js';

/** The relay client as a waiting response action sees it. */
export interface ResponseActionRelay {
  readonly state: string;
  /** Subscribe to state changes; returns the unsubscribe function. */
  onState(listener: (state: string) => void): () => void;
}

/** What {@link runResponseAction} needs. */
export interface ResponseActionDeps {
  /** The action pipeline (`POST /v1/actions`); never rejects. */
  readonly execute: (raw: unknown) => Promise<ActionOutcome>;
  readonly relay: ResponseActionRelay;
  /** Longest wait for a connection (or a free slot) in all, ms (`relay.outboundTimeoutMs`). */
  readonly waitMs: number;
  readonly log: Logger;
}

/** Wait between two tries while the API answers `busy`, ms (its `Retry-After`). */
const BUSY_RETRY_MS = 1_000;
/**
 * Pause before another try when the state already says connected, ms: for a moment after a
 * socket closes the state can still read `ready`, and trying again at once would spin.
 */
const RECHECK_MS = 100;

/** A try that marks nothing (a caller with no outbox). */
const UNMARKED: ActionTry = {
  restart: async () => {},
  unsent: async () => {},
  signal: new AbortController().signal,
};

/**
 * Run one response action; rejects with what went wrong when it did not succeed, or with
 * {@link ActionDeferred} when nothing was sent and the sidecar is stopping.
 */
export async function runResponseAction(
  deps: ResponseActionDeps,
  raw: unknown,
  attempt: ActionTry = UNMARKED,
): Promise<unknown> {
  const deadline = performance.now() + deps.waitMs;
  let outcome = await deps.execute(raw);
  for (let waited = false; ; waited = true) {
    const why = unsent(outcome);
    if (!why) break;
    await attempt.unsent();
    if (stopping(deps, attempt, why)) throw new ActionDeferred(`not sent (${why}): the sidecar is stopping`);
    const left = deadline - performance.now();
    if (left <= 0) break;
    if (!waited)
      deps.log.info({ op: opOf(raw), reason: why }, 'response action waits for the relay connection');
    const ready =
      why === 'busy'
        ? await sleep(Math.min(BUSY_RETRY_MS, left), attempt.signal)
        : await connected(deps.relay, left, attempt.signal);
    if (stopping(deps, attempt, why)) throw new ActionDeferred(`not sent (${why}): the sidecar is stopping`);
    if (!ready) break;
    await attempt.restart();
    outcome = await deps.execute(raw);
  }
  return settled(outcome);
}

/** The sidecar stops: the relay client stopped (its answer says so), or the runner drains. */
function stopping(deps: ResponseActionDeps, attempt: ActionTry, why: Unsent): boolean {
  return why === 'closed' || attempt.signal.aborted || deps.relay.state === 'stopped';
}

/** Why nothing was sent: the API was busy, the relay had no connection or had stopped. */
type Unsent = 'not_connected' | 'busy' | 'closed';

/** Why nothing was sent and a later try may succeed, or undefined when the outcome is final. */
function unsent(outcome: ActionOutcome): Unsent | undefined {
  const body = outcome.body as { error?: { code?: string }; result?: Record<string, unknown> } | undefined;
  if (outcome.status === 503 && body?.error?.code === 'busy') return 'busy';
  const result = body?.result;
  if (outcome.status !== 200 || result?.success !== false) return undefined;
  // the client's own synthesised answers, compared whole: the connector's results never match
  // them, and `closed` with `ambiguous` (a frame out when the socket stopped) is not one of them
  const same = (synthesised: Record<string, unknown>) =>
    result.error === synthesised.error && Object.keys(result).length === Object.keys(synthesised).length;
  if (same(SYNTHESISED.notConnected())) return 'not_connected';
  return same(SYNTHESISED.closed()) ? 'closed' : undefined;
}

/** The pipeline's answer as the action runner takes it: the body, or an error saying what failed. */
function settled(outcome: ActionOutcome): unknown {
  const { status, body } = outcome;
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (status >= 400) throw new Error(`${status} ${error?.code ?? 'error'}: ${error?.message ?? ''}`);
  const result = (body as { result?: { success?: boolean; error?: string } } | undefined)?.result;
  if (result?.success === false) throw new Error(`result success:false: ${result.error ?? ''}`);
  return body;
}

/**
 * True once the relay can take sends (`ready` or `idle`); false on a final state, after `ms` or
 * when `signal` aborts.
 */
function connected(relay: ResponseActionRelay, ms: number, signal: AbortSignal): Promise<boolean> {
  const verdict = (state: string): boolean | undefined =>
    state === 'ready' || state === 'idle'
      ? true
      : state === 'stopped' || state === 'revoked'
        ? false
        : undefined;
  const now = verdict(relay.state);
  if (now === true) return sleep(Math.min(RECHECK_MS, ms), signal);
  if (now === false || signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    // late after a freeze, it first reads a handshake that completed meanwhile: given up at once,
    // the agent's reply was dropped with the connection back
    const deadline = armDeadline(systemClock, ms, () => finish(false));
    const off = relay.onState((state) => {
      const v = verdict(state);
      if (v !== undefined) finish(v);
    });
    const abort = () => finish(false);
    signal.addEventListener('abort', abort, { once: true });
    function finish(v: boolean): void {
      deadline.clear();
      off();
      signal.removeEventListener('abort', abort);
      resolve(v);
    }
  });
}

/** True after `ms`; false at once when `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(true), ms);
    timer.unref();
    const abort = () => finish(false);
    signal.addEventListener('abort', abort, { once: true });
    function finish(v: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      resolve(v);
    }
  });
}
