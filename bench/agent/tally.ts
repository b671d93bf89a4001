/**
 * The receiving end of a measurement: counts distinct events of one run (by the marker in their
 * text), duplicates, and the send → receive latency of each first receipt. Used by the loopback
 * agent (through the sidecar) and by the bare-socket baseline alike, so both count the same way.
 */
import { nowUs } from '../lib/clock.js';

const MARKER = /#b(\d+)\.(\d+)@(\d+)#/;

/** What a finished (or timed-out) tally reports. */
export interface TallyResult {
  readonly expected: number;
  readonly distinct: number;
  readonly duplicates: number;
  /** Receipt time of the first and the last distinct event, µs. */
  readonly firstUs: number;
  readonly lastUs: number;
  /** Send → receive of each distinct event, ms (empty unless latency was asked for). */
  readonly latenciesMs: number[];
}

/** Counts the events of run `tag`, seq 0..expected-1. */
export class Tally {
  private readonly seen: Uint8Array;
  private distinctCount = 0;
  private dupes = 0;
  private first = 0;
  private last = 0;
  private readonly latencies: number[] = [];
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly tag: number,
    readonly expected: number,
    private readonly keepLatency: boolean,
  ) {
    this.seen = new Uint8Array(expected);
  }

  /** Events received so far (distinct). */
  get distinct(): number {
    return this.distinctCount;
  }

  /** Note the text of one received event; events of other runs are ignored. */
  mark(text: unknown, atUs = nowUs()): void {
    if (typeof text !== 'string') return;
    const m = MARKER.exec(text);
    if (!m || Number(m[1]) !== this.tag) return;
    const seq = Number(m[2]);
    if (seq < 0 || seq >= this.expected) return;
    if (this.seen[seq]) {
      this.dupes += 1;
      return;
    }
    this.seen[seq] = 1;
    if (this.distinctCount === 0) this.first = atUs;
    this.last = atUs;
    this.distinctCount += 1;
    if (this.keepLatency) this.latencies.push((atUs - Number(m[3])) / 1000);
    if (this.distinctCount === this.expected) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolve when every event arrived, or after `timeoutMs` (then the result shows what is missing). */
  done(timeoutMs: number): Promise<TallyResult> {
    if (this.distinctCount === this.expected) return Promise.resolve(this.result());
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.result()), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(this.result());
      });
    });
  }

  /** The figures so far. */
  result(): TallyResult {
    return {
      expected: this.expected,
      distinct: this.distinctCount,
      duplicates: this.dupes,
      firstUs: this.first,
      lastUs: this.last,
      latenciesMs: this.latencies,
    };
  }
}
