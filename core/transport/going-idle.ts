/**
 * The `going_idle` → `going_idle_ack` exchange (relay contract section 5): one request in flight
 * per connection, bounded by a timeout; the socket keeps serving inbound until the ack.
 */
import type { Clock } from '../di/clock.js';
import { armDeadline, type Deadline } from '../di/deadline.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SocketSession } from './socket-session.js';

interface Wait {
  readonly session: SocketSession;
  readonly deadline: Deadline;
  readonly promise: Promise<boolean>;
  readonly resolve: (acked: boolean) => void;
}

/** Tracks the one pending going-idle request. */
export class GoingIdle {
  private wait: Wait | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** True while a request waits for its ack. */
  get pending(): boolean {
    return this.wait !== undefined;
  }

  /** Send `going_idle` on `session` and wait up to `timeoutMs` for the ack. */
  request(session: SocketSession, timeoutMs: number): Promise<boolean> {
    if (this.wait?.session === session) return this.wait.promise;
    this.settle(false);
    if (!session.write({ type: 'going_idle' }).ok) return Promise.resolve(false);
    session.idleRequested = true;
    let resolve!: (acked: boolean) => void;
    const promise = new Promise<boolean>((r) => {
      resolve = r;
    });
    // late after a freeze, the verdict first reads what came meanwhile: at once, an ack that
    // arrived during the stop was logged as a timeout and read a moment later
    const timeout = () => {
      reportError(this.log, this.metrics, 'CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT', 'going_idle not acked', {
        timeoutMs,
      });
      this.settle(false);
    };
    const deadline = armDeadline(this.clock, timeoutMs, timeout, { progress: () => session.bytesRead });
    this.wait = { session, deadline, promise, resolve };
    return promise;
  }

  /** A `going_idle_ack` arrived on `session`: true when that session had asked for it. */
  ack(session: SocketSession | undefined): boolean {
    if (!session?.idleRequested) {
      this.metrics.framesIgnored.inc({ reason: 'unsolicited_ack' });
      this.log.debug('going_idle_ack without a request ignored');
      return false;
    }
    if (this.wait?.session === session) this.settle(true);
    return true;
  }

  /** The connection (or the whole transport) is gone: the wait ends unacked. */
  settle(acked: boolean): void {
    const wait = this.wait;
    if (!wait) return;
    this.wait = undefined;
    wait.deadline.clear();
    wait.resolve(acked);
  }
}
