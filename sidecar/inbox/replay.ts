/**
 * Replaying a dead letter. A delivery goes back to pending (rejections reset, same id, attempt
 * continues). A frame runs through the plugins again — neither deduped nor acked a second time;
 * its dead letter is removed when it commits, or rewritten with the new error if it fails again.
 */
import { z } from 'zod';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import { InboundFrameSchema, PassthroughForwardFrameSchema } from '../../core/protocol/frames.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { InboxStore } from './inbox-store.js';
import type { Ingest } from './ingest.js';

/**
 * `replayed`: queued again; `unknown`: no such dead letter; `not_replayable`: nothing to re-run (no
 * frame kept, or a forward kept without its body).
 */
export type ReplayResult = 'replayed' | 'unknown' | 'not_replayable';

/** The frames a dead letter can hold and re-run. */
const ReplayableFrameSchema = z.discriminatedUnion('type', [
  InboundFrameSchema,
  PassthroughForwardFrameSchema,
]);
const FramePayloadSchema = z.object({ frame: ReplayableFrameSchema });

/** What a replay touches. */
export interface ReplayContext {
  readonly store: InboxStore;
  readonly ingest: Ingest;
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: number;
  /** Frame dead letters being replayed right now (not picked up twice). */
  readonly replaying: Set<string>;
}

/** Replay one dead letter. */
export function replayDeadLetter(id: string, ctx: ReplayContext): ReplayResult {
  const { store } = ctx;
  const letter = store.deadLetters.get(id);
  if (!letter) return 'unknown';
  if (letter.kind === 'delivery') {
    const entry = store.db
      .transaction(() => {
        const row = store.events.requeue(id, ctx.now);
        if (row) store.deadLetters.remove(id);
        else store.deadLetters.clearReplay(id);
        return row;
      })
      .immediate();
    if (!entry) return 'not_replayable';
    ctx.metrics.inboxDepth.inc();
    ctx.scheduler.enqueue([entry]);
    ctx.log.info({ id }, 'dead delivery replayed');
    return 'replayed';
  }
  if (ctx.replaying.has(id)) return 'replayed';
  const parsed = FramePayloadSchema.safeParse(letter.payload);
  store.deadLetters.clearReplay(id);
  if (!parsed.success) {
    reportError(
      ctx.log,
      ctx.metrics,
      'CORE_ERR_INBOX_REPLAY_FAILED',
      'dead letter holds no replayable frame',
      {
        id,
      },
    );
    return 'not_replayable';
  }
  // stored without its body (redact-frame.ts: not text, a credential the scans could not remove,
  // a redaction that failed): re-run, the plugin would read an empty body and the letter's
  // original error be overwritten by one about that
  if (bodyLeftOut(letter.payload)) {
    reportError(
      ctx.log,
      ctx.metrics,
      'CORE_ERR_INBOX_REPLAY_FAILED',
      'dead letter was stored without its body',
      {
        id,
      },
    );
    return 'not_replayable';
  }
  ctx.replaying.add(id);
  ctx.ingest.replay(id, parsed.data.frame, () => ctx.replaying.delete(id));
  ctx.log.info({ id, type: parsed.data.frame.type }, 'dead frame replayed');
  return 'replayed';
}

/** Was the forward of a dead letter's frame stored without its body (`bodyOmitted`)? */
function bodyLeftOut(payload: unknown): boolean {
  const forward = (payload as { frame?: { forward?: { bodyOmitted?: unknown } } } | null)?.frame?.forward;
  return typeof forward === 'object' && forward !== null && forward.bodyOmitted !== undefined;
}
