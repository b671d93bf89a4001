/**
 * Committing a run of in-order frame results, then their effects — strictly in this order:
 * the transaction, then metrics and logs, the rows to the scheduler, and `inbound_ack` last.
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import { isStoreUnavailable } from '../../core/store/database.js';
import type { QueuedDelivery } from './event-table.js';
import type { CommitDecision, FrameJob, FrameOutcome } from './frame-outcome.js';
import type { Refused } from './held-commits.js';
import type { InboxStore } from './inbox-store.js';

/** What a commit touches. */
export interface CommitDeps {
  readonly store: InboxStore;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  /** Send `inbound_ack{bufferId}`; false when no socket is ready. */
  readonly ack: (bufferId: string) => boolean;
  readonly onCommitted: (rows: readonly QueuedDelivery[], envelopes: readonly string[]) => void;
}

/** Frames the store could not take now (from the first such frame on, in order), and why. */
export type HeldFrames = Refused<[FrameJob, FrameOutcome]>;

/**
 * Commit `items` (one group transaction; one by one if the group fails) and apply the effects.
 * A frame the store refuses as unavailable ({@link isStoreUnavailable}: a full disk, an I/O error,
 * the write lock not granted) stops the run: it and every later frame are returned, uncommitted
 * and unacked, for the caller to hold and commit again in the same order. A frame that fails
 * otherwise is reported and left (a buffered one comes back with a redelivery).
 */
export function commitFrames(
  deps: CommitDeps,
  items: readonly [FrameJob, FrameOutcome][],
): HeldFrames | undefined {
  const now = deps.now();
  let decisions: (CommitDecision | undefined)[];
  let held: HeldFrames | undefined;
  try {
    decisions = deps.store.commitBatch(items, now);
  } catch {
    // one bad frame must not fail its neighbours: retry each alone
    decisions = [];
    for (const [i, item] of items.entries()) {
      const result = commitOne(deps, item, now);
      if (result.held) {
        held = { items: items.slice(i), error: result.error };
        break;
      }
      decisions.push(result.decision);
    }
  }
  for (const [i, [job]] of items.entries()) {
    if (i >= decisions.length) break;
    const decision = decisions[i];
    if (decision) applyDecision(deps, job, decision);
    job.onSettled?.();
  }
  return held;
}

function commitOne(
  deps: CommitDeps,
  item: [FrameJob, FrameOutcome],
  now: number,
): { decision?: CommitDecision; held?: true; error?: unknown } {
  try {
    return { decision: deps.store.commitBatch([item], now)[0] };
  } catch (err) {
    if (isStoreUnavailable(err)) return { held: true, error: err };
    // not acked: a buffered frame comes back with the connector's next redelivery
    reportError(deps.log, deps.metrics, 'CORE_ERR_INBOX_COMMIT_FAILED', 'inbox commit failed', {
      type: item[0].type,
      bufferId: item[0].bufferId,
      error: errorMessage(err),
    });
    return {};
  }
}

/** Effects of a committed decision: metrics, logs, scheduler, and the ack — strictly after. */
function applyDecision(deps: CommitDeps, job: FrameJob, decision: CommitDecision): void {
  const { metrics, log } = deps;
  const fields = { type: job.type, bufferId: job.bufferId };
  if (decision.committed.length > 0) {
    metrics.inboxDepth.inc(decision.committed.length);
    deps.onCommitted(decision.committed, decision.envelopes ?? []);
  }
  if (decision.duplicate) {
    metrics.duplicates.inc();
    log.debug(fields, 'duplicate frame not delivered again');
  }
  if (decision.deadLetter) {
    const dead = { ...fields, deadLetterId: decision.deadLetter.id };
    // once per dead letter, after its commit (a group retried frame by frame logs nothing twice)
    if (decision.deadLetter.redactionFailed !== undefined)
      reportError(log, metrics, 'CORE_ERR_INBOX_REDACTION_FAILED', 'dead letter stored without its body', {
        ...dead,
        error: decision.deadLetter.redactionFailed,
      });
    if (decision.deadLetter.code === 'CORE_ERR_PLUGIN_QUARANTINED') {
      reportError(log, metrics, 'CORE_ERR_PLUGIN_QUARANTINED', 'frame quarantined', dead);
    } else {
      // the failure itself was logged once with its code (by the relay client or the plugin
      // host); this line records where the frame went, under `cause` so a search by code finds
      // each failure once
      log.warn({ ...dead, cause: decision.deadLetter.code }, 'frame dead-lettered');
    }
  } else if (decision.attempts !== undefined) {
    log.info(
      { ...fields, attempts: decision.attempts },
      'transient failure, frame left unacked for redelivery',
    );
  }
  // the relay client counts the acks it writes (relay_inbound_acks_total); one it could not
  // write comes back as a redelivery, which the dedupe key turns into another ack
  if (decision.ack && job.bufferId && !deps.ack(job.bufferId))
    log.debug(fields, 'inbound_ack not sent: no socket');
}
