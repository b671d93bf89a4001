/**
 * The send path of the relay client: fail fast when there is no live socket, validate the frame,
 * bound the waiters, write, and hand the caller a promise that always resolves (relay contract
 * section 4, "Results the sidecar synthesises").
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import { type Action, type OutboundResult, SYNTHESISED } from '../protocol/actions.js';
import { type Correlator, newRequestId, type OutboundOutcome } from './correlator.js';
import { buildOutboundFrame, type OutboundTags } from './outbound-frame.js';
import type { SocketSession } from './socket-session.js';

/** Where a send goes: the live session, none (not connected), or the transport is stopped. */
export type SendTarget = SocketSession | 'none' | 'stopped';

/** Writes outbound frames and correlates their results. */
export class OutboundSender {
  constructor(
    private readonly correlator: Correlator,
    private readonly relay: Config['relay'],
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Send `action` on `target`; never throws or rejects. */
  send(target: SendTarget, action: Action, tags: OutboundTags): Promise<OutboundResult> {
    if (target === 'stopped') return this.synthesised('closed', SYNTHESISED.closed());
    // Never queue while down: the caller learns now and decides (contract section 6).
    if (target === 'none') return this.synthesised('not_connected', SYNTHESISED.notConnected());
    const op = typeof action?.op === 'string' ? action.op.slice(0, 64) : '';
    const built = buildOutboundFrame(newRequestId(), action, tags, this.relay.identities);
    if (!built.ok) {
      reportError(this.log, this.metrics, 'CORE_ERR_OUTBOUND_INVALID_ACTION', 'outbound frame invalid', {
        op,
        reason: built.reason,
      });
      return this.synthesised(
        'send_failed',
        SYNTHESISED.sendFailed(`invalid outbound frame: ${built.reason}`),
      );
    }
    if (this.correlator.full()) {
      reportError(this.log, this.metrics, 'CORE_ERR_TRANSPORT_SEND_FAILED', 'too many pending outbound', {
        op,
        maxPending: this.relay.maxPendingOutbound,
      });
      return this.synthesised('send_failed', SYNTHESISED.sendFailed('too many pending outbound calls'));
    }
    const { requestId } = built.frame;
    const result = this.correlator.track(requestId, op);
    // A failure after hand-off is left to the close: the frame may have reached the connector.
    const written = target.write(built.frame, (err) =>
      this.log.debug({ requestId, err: err.message }, 'outbound write lost after hand-off'),
    );
    if (!written.ok) {
      reportError(this.log, this.metrics, 'CORE_ERR_TRANSPORT_SEND_FAILED', 'outbound write failed', {
        op,
        reason: written.reason,
      });
      this.correlator.fail(requestId, SYNTHESISED.sendFailed(written.reason), 'send_failed');
    }
    return result;
  }

  private synthesised(outcome: OutboundOutcome, result: OutboundResult): Promise<OutboundResult> {
    this.correlator.record(outcome);
    return Promise.resolve(result);
  }
}
