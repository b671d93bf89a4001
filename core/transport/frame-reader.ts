/**
 * The read path of one connection: raw WebSocket messages in, decoded frames out. Everything that
 * does not decode is logged once with its stable code, counted and skipped here, so the socket
 * code above never sees a bad line and nothing on the wire can end the read loop.
 */
import type { RawData } from 'ws';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import { type DecodeFailure, decodeFrame } from '../protocol/decode.js';
import type { IncomingFrame } from '../protocol/frames.js';
import { NdjsonSplitter } from '../protocol/ndjson.js';

/** A schema-failed frame that carried a `bufferId` (the pipeline may ack and dead-letter it). */
export interface PoisonInfo {
  readonly bufferId: string;
  readonly code: string;
  readonly reason: string;
  readonly type?: string;
}

/** Where decoded frames and poison frames go. Both are called synchronously. */
export interface FrameSink {
  frame(frame: IncomingFrame): void;
  poison(info: PoisonInfo): void;
}

/** Splits, decodes and reports the messages of one connection. */
export class FrameReader {
  private readonly splitter: NdjsonSplitter;
  /** Malformed lines so far on this connection, by code (for the warning's rhythm). */
  private readonly malformed = new Map<string, number>();

  constructor(
    maxPartialBytes: number,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly sink: FrameSink,
  ) {
    this.splitter = new NdjsonSplitter(maxPartialBytes);
  }

  /** Bytes of the partial line held for the next message. */
  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  /** Feed one WebSocket message; text and binary are the same UTF-8 byte stream. Never throws. */
  push(data: RawData): void {
    const { lines, overflowBytes } = this.splitter.push(toBuffer(data));
    if (overflowBytes !== undefined) {
      this.metrics.framesMalformed.inc({ code: 'CORE_ERR_FRAME_PARTIAL_OVERFLOW' });
      // an error, as the contract says: the frame in that line is lost, and a live one never
      // comes back (each needs more than maxPayload bytes, so these cannot flood the log)
      reportError(
        this.log,
        this.metrics,
        'CORE_ERR_FRAME_PARTIAL_OVERFLOW',
        'partial line overflow',
        { bytes: overflowBytes },
        'error',
      );
    }
    for (const line of lines) this.line(line);
  }

  /** Forget the partial line (the connection is gone). */
  reset(): void {
    this.splitter.reset();
  }

  private line(line: string): void {
    const decoded = decodeFrame(line);
    if (!decoded.ok) {
      this.failed(decoded, line.length);
      return;
    }
    this.metrics.framesIn.inc({ type: decoded.frame.type });
    this.sink.frame(decoded.frame);
  }

  private failed(f: DecodeFailure, chars: number): void {
    const fields = { type: f.type, reason: f.reason, chars };
    if (f.ignored) {
      // Unknown, missing and echoed types are expected from newer or buggy peers: debug only.
      this.metrics.framesIgnored.inc({ reason: f.ignored });
      reportError(this.log, this.metrics, f.code, 'frame ignored', fields, 'debug');
      return;
    }
    this.metrics.framesMalformed.inc({ code: f.code });
    // Every line is counted and logged, but a warning only at the 1st, 10th, 100th… of its code
    // on this connection: one 16 MiB message of "x\n" is 8 Mi lines, and a warning each turned a
    // connector's bytes into a hundred times as many bytes of log.
    const malformedSoFar = (this.malformed.get(f.code) ?? 0) + 1;
    this.malformed.set(f.code, malformedSoFar);
    const level = isPowerOfTen(malformedSoFar) ? 'warn' : 'debug';
    reportError(
      this.log,
      this.metrics,
      f.code,
      'malformed frame skipped',
      { ...fields, malformedSoFar },
      level,
    );
    if (f.bufferId !== undefined) {
      this.sink.poison({
        bufferId: f.bufferId,
        code: f.code,
        reason: f.reason,
        ...(f.type === undefined ? {} : { type: f.type }),
      });
    }
  }
}

/** 1, 10, 100, … */
function isPowerOfTen(n: number): boolean {
  let x = n;
  while (x >= 10 && x % 10 === 0) x /= 10;
  return x === 1;
}

/** ws hands over a Buffer, an ArrayBuffer or fragments depending on `binaryType`. */
function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
