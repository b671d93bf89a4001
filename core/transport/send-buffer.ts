/**
 * The bound on what the connector has not read yet (`relay.maxSendBufferBytes`). A peer that stops
 * reading but holds the TCP connection open (until the pong timeout) must not make the sidecar
 * buffer whatever the agent sends: past the bound, writes are refused. Checked before each write,
 * so one frame may pass it.
 */
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';

/** Tracks one connection's refusal episodes: reported once when it starts, at info when it ends. */
export class SendBufferGuard {
  private full = false;

  constructor(
    private readonly session: number,
    private readonly maxBytes: number,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** True when a frame may be written with `bufferedBytes` still waiting for the connector. */
  room(bufferedBytes: number): boolean {
    if (bufferedBytes < this.maxBytes) {
      if (this.full) {
        this.full = false;
        this.log.info({ session: this.session, bufferedBytes }, 'relay send buffer drained');
      }
      return true;
    }
    if (!this.full) {
      this.full = true;
      reportError(this.log, this.metrics, 'CORE_ERR_TRANSPORT_SEND_BUFFER_FULL', 'relay send buffer full', {
        session: this.session,
        bufferedBytes,
        maxSendBufferBytes: this.maxBytes,
      });
    }
    return false;
  }
}
