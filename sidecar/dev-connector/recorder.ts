/**
 * The dev connector's memory of the wire: every frame both ways, in order, with listeners (a CLI
 * prints each frame) and `waitFor` (tests await a frame that arrived already or will arrive).
 */
import type { RecordedFrame } from './options.js';

/** Called with every recorded frame. */
export type FrameListener = (frame: RecordedFrame) => void;

interface Waiter {
  pred: (f: RecordedFrame) => boolean;
  resolve: (f: RecordedFrame) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A bounded, ordered frame log with listeners and waiters. */
export class Recorder {
  /** Recorded frames, oldest first; trimmed from the front beyond the limit. */
  readonly frames: RecordedFrame[] = [];
  private readonly listeners = new Set<FrameListener>();
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly limit: number) {}

  /** Record one frame, then notify listeners and settle matching waiters. */
  record(entry: RecordedFrame): void {
    this.frames.push(entry);
    if (this.frames.length > this.limit) this.frames.splice(0, this.frames.length - this.limit);
    for (const listener of this.listeners) {
      // A listener that throws must not break the connector (it is user code, e.g. a CLI printer).
      try {
        listener(entry);
      } catch {}
    }
    for (const w of this.waiters) {
      if (this.matches(w, entry)) this.settle(w, entry);
    }
  }

  /** Subscribe to every future frame; returns the unsubscribe function. */
  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first recorded or future frame matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (f: RecordedFrame) => boolean, timeoutMs: number): Promise<RecordedFrame> {
    const hit = this.frames.find((f) => safely(pred, f));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`dev connector: no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      // Deliberately not unref'ed: someone awaits this, so the timeout must be able to fire even
      // when nothing else keeps the event loop alive. It is bounded and cleared on close().
      const waiter: Waiter = { pred, resolve, reject, timer };
      this.waiters.add(waiter);
    });
  }

  /** Reject every pending waiter (the connector is closing) and drop listeners. */
  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('dev connector closed'));
    }
    this.waiters.clear();
    this.listeners.clear();
  }

  private matches(w: Waiter, f: RecordedFrame): boolean {
    return safely(w.pred, f);
  }

  private settle(w: Waiter, f: RecordedFrame): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
    w.resolve(f);
  }
}

/** A predicate that throws counts as "no match" (test code reading a field of the wrong frame). */
function safely(pred: (f: RecordedFrame) => boolean, f: RecordedFrame): boolean {
  try {
    return pred(f);
  } catch {
    return false;
  }
}
