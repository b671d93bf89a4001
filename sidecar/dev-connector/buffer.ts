/**
 * The at-least-once buffer of a real connector: frames sent with a `bufferId` stay pending until
 * the sidecar acks them (`inbound_ack`), and are replayed on every new connection until then.
 */

/** Pending buffered frames, in the order they were buffered. */
export class ReplayBuffer {
  private readonly pending = new Map<string, Record<string, unknown>>();
  private next = 0;

  /** Store a copy of `frame` under a fresh id `buf-<n>`; returns the frame as sent (with id). */
  add(frame: Record<string, unknown>): { bufferId: string; frame: Record<string, unknown> } {
    this.next += 1;
    const bufferId = `buf-${this.next}`;
    const stored = { ...frame, bufferId };
    this.pending.set(bufferId, stored);
    return { bufferId, frame: stored };
  }

  /** Forget an acked frame; true when it was pending (unknown or repeated acks are ignored). */
  ack(bufferId: unknown): boolean {
    return typeof bufferId === 'string' && this.pending.delete(bufferId);
  }

  /** The ids not yet acked, oldest first. */
  ids(): string[] {
    return [...this.pending.keys()];
  }

  /** The frames to replay on a new connection, oldest first, same bufferIds. */
  frames(): Record<string, unknown>[] {
    return [...this.pending.values()];
  }
}
