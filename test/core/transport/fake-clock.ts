/**
 * A manual clock for timer logic: time moves only when the test calls `advance`, so
 * timeout paths are exact and instant.
 */
import type { Clock } from '../../../core/di/clock.js';

interface Timer {
  at: number;
  fn: () => void;
  handle: NodeJS.Timeout;
}

/** A {@link Clock} driven by the test. */
export class FakeClock implements Clock {
  private t: number;
  private readonly timers = new Map<NodeJS.Timeout, Timer>();
  private seq = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): NodeJS.Timeout {
    // A unique opaque handle; never a real timer.
    const handle = { id: ++this.seq } as unknown as NodeJS.Timeout;
    this.timers.set(handle, { at: this.t + ms, fn, handle });
    return handle;
  }

  clearTimeout(handle: NodeJS.Timeout | undefined): void {
    if (handle) this.timers.delete(handle);
  }

  /** Timers still armed. */
  pending(): number {
    return this.timers.size;
  }

  /**
   * Step the wall clock by `ms` (either way) without firing anything: an NTP correction or the
   * date set by hand moves `now()`, never the timers armed with a delay.
   */
  step(ms: number): void {
    this.t += ms;
    for (const timer of this.timers.values()) timer.at += ms;
  }

  /** Move time forward, firing due timers in order (including ones they arm). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.timers.values()].filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers.delete(next.handle);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}
