/**
 * Sends the frames of one measurement from the connector: either as fast as the receiver takes
 * them (a credit window: at most `window` frames sent and not yet received, the receiver's count
 * arriving through {@link Blaster.credit}), or paced at a fixed rate. Bounded in count and time.
 */
import { nowUs } from '../lib/clock.js';
import { bufferIdOf, type FrameKind, frameLine } from './frame-lines.js';

/** One measurement's sending plan. */
export interface BlastSpec {
  readonly kind: FrameKind;
  readonly tag: number;
  /** Frames to send (seq 0..n-1, or `fromSeq`..n-1). */
  readonly n: number;
  readonly fromSeq?: number;
  readonly buffered: boolean;
  readonly sessions: number;
  /** Members taking turns in each chat (see `FrameFacts.speakers`). */
  readonly speakers?: number;
  /** Ceiling mode: most frames in flight (sent, not yet counted by the receiver). */
  readonly window?: number;
  /** Paced mode: frames per second. */
  readonly ratePerS?: number;
  /** Give up after this long, ms. */
  readonly maxMs: number;
}

/** What a blast did. */
export interface BlastResult {
  readonly sent: number;
  /** First and last send, µs. */
  readonly firstUs: number;
  readonly lastUs: number;
  readonly stopped: 'done' | 'timeout' | 'stopped' | 'send_failed';
}

/** Where frames go; throws when the connection is gone. `bufferId` is set for buffered frames. */
export type SendLine = (line: string, bufferId: string | undefined) => void;

/** Frames sent per event-loop turn before yielding (so acks and credits are read in between). */
const BURST = 256;

/** One sender at a time per connector. */
export class Blaster {
  private received = 0;
  private wake: (() => void) | undefined;
  private stopRequested = false;
  private next = 0;

  constructor(private readonly send: SendLine) {}

  /** The seq the running (or last) blast would send next. */
  get nextSeq(): number {
    return this.next;
  }

  /** The receiver has counted `received` frames of the current blast. */
  credit(received: number): void {
    this.received = Math.max(this.received, received);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Stop the running blast after its current burst. */
  stop(): void {
    this.stopRequested = true;
    this.credit(this.received);
  }

  /** Run `spec` to the end (or its time limit). */
  async run(spec: BlastSpec): Promise<BlastResult> {
    this.received = 0;
    this.stopRequested = false;
    const start = nowUs();
    const deadline = start + spec.maxMs * 1000;
    let seq = spec.fromSeq ?? 0;
    this.next = seq;
    let sent = 0;
    let firstUs = 0;
    let lastUs = 0;
    const finish = (stopped: BlastResult['stopped']): BlastResult => ({ sent, firstUs, lastUs, stopped });
    while (seq < spec.n) {
      if (this.stopRequested) return finish('stopped');
      const now = nowUs();
      if (now > deadline) return finish('timeout');
      let allowed = BURST;
      if (spec.ratePerS) {
        // pacing: everything due by now goes out now, each frame stamped with its real send time
        const due = Math.floor(((now - start) / 1e6) * spec.ratePerS) + 1 - sent;
        allowed = Math.min(allowed, due);
      }
      if (spec.window) allowed = Math.min(allowed, spec.window - (sent - this.received));
      if (allowed <= 0) {
        await (spec.ratePerS ? delay(1) : this.creditOr(5));
        continue;
      }
      for (let i = 0; i < allowed && seq < spec.n; i++, seq++) {
        const bufferId = spec.buffered ? bufferIdOf(spec.tag, seq) : undefined;
        const sendUs = nowUs();
        const line = frameLine({
          kind: spec.kind,
          tag: spec.tag,
          seq,
          sendUs,
          sessions: spec.sessions,
          ...(spec.speakers ? { speakers: spec.speakers } : {}),
          bufferId,
        });
        try {
          this.send(line, bufferId);
        } catch {
          return finish('send_failed');
        }
        if (sent === 0) firstUs = sendUs;
        lastUs = sendUs;
        sent += 1;
        this.next = seq + 1;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return finish('done');
  }

  /** Wait for the next credit, at most `ms` (a lost credit must not stall the blast). */
  private creditOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
