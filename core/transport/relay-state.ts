/**
 * The relay client's state machine as a value: the current state, its gauge, and listeners.
 * `stopped` is final; `revoked` can only move on to `stopped`.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * `connecting`: dialing, no handshake yet on this client; `ready`: handshake done, sends go out;
 * `reconnecting`: a handshaken connection was lost and the supervisor is redialing; `idle`: the
 * connector acked `going_idle` (inbound is buffered, the socket still serves); `revoked`: the
 * credentials were refused twice, no more dials; `stopped`: `stop()` was called.
 */
export type RelayState = 'connecting' | 'ready' | 'reconnecting' | 'idle' | 'revoked' | 'stopped';

/** Every state, for the gauge. */
export const RELAY_STATES: readonly RelayState[] = [
  'connecting',
  'ready',
  'reconnecting',
  'idle',
  'revoked',
  'stopped',
];

/** Why a state was entered (e.g. revoked: the error code and the connector's close reason). */
export interface StateDetail {
  readonly code?: string;
  readonly reason?: string;
}

/** Called on every state change. */
export type StateListener = (state: RelayState, detail?: StateDetail) => void;

/** Holds the current state; notifies listeners on change. */
export class StateCell {
  private current: RelayState = 'connecting';
  private readonly listeners = new Set<StateListener>();

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.publish();
  }

  /** The current state. */
  get value(): RelayState {
    return this.current;
  }

  /** True once `stopped` or `revoked`: no more dials. */
  get final(): boolean {
    return this.current === 'stopped' || this.current === 'revoked';
  }

  /** Move to `next`; ignored when unchanged or not allowed from a final state. */
  set(next: RelayState, detail?: StateDetail): void {
    if (next === this.current) return;
    if (this.current === 'stopped') return;
    if (this.current === 'revoked' && next !== 'stopped') return;
    const previous = this.current;
    this.current = next;
    this.publish();
    this.log.info({ state: next, previous, ...(detail ? { detail } : {}) }, 'relay state changed');
    for (const listener of [...this.listeners]) {
      try {
        listener(next, detail);
      } catch (err) {
        // A listener's bug must not break the transport that is telling it something.
        const fields = { step: 'relay state listener', error: errorMessage(err) };
        reportError(
          this.log,
          this.metrics,
          'CORE_ERR_INTERNAL_THREW',
          'relay state listener threw',
          fields,
          'error',
        );
      }
    }
  }

  /** Subscribe; returns the unsubscribe function. */
  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private publish(): void {
    for (const s of RELAY_STATES) this.metrics.state.set({ state: s }, s === this.current ? 1 : 0);
  }
}
