/**
 * Frames are processed concurrently (the plugin pool) but committed in arrival order, so the
 * per-session order of the connector is kept. Each frame takes a sequence number on arrival;
 * results wait here until every earlier frame is done, then flush together — one flush per
 * event-loop turn, which also groups commits into one transaction under load.
 */

/** Schedules a flush after the current turn (injectable for tests). */
export type Defer = (fn: () => void) => void;

/** An in-order completion buffer. */
export class ReorderChain<T> {
  private assigned = 0;
  private head = 0;
  private readonly ready = new Map<number, T | undefined>();
  private scheduled = false;

  constructor(
    private readonly flush: (items: T[]) => void,
    private readonly defer: Defer = (fn) => setImmediate(fn),
  ) {}

  /** Frames taken and not yet flushed. */
  get pending(): number {
    return this.assigned - this.head;
  }

  /** Sequence numbers taken so far. */
  get taken(): number {
    return this.assigned;
  }

  /** Sequence numbers flushed (or moved past) so far, all in order. */
  get flushed(): number {
    return this.head;
  }

  /** Take the next sequence number. */
  next(): number {
    return this.assigned++;
  }

  /** Report the result of `seq`; `undefined` lets the chain move past it without flushing. */
  complete(seq: number, item: T | undefined): void {
    if (seq < this.head || this.ready.has(seq)) return;
    this.ready.set(seq, item);
    if (seq === this.head && !this.scheduled) {
      this.scheduled = true;
      this.defer(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const items: T[] = [];
    while (this.ready.has(this.head)) {
      const item = this.ready.get(this.head);
      this.ready.delete(this.head);
      this.head += 1;
      if (item !== undefined) items.push(item);
    }
    if (items.length > 0) this.flush(items);
  }
}
