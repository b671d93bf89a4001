/**
 * NDJSON framing (relay contract section 2): the connector's messages are one byte stream split
 * on `\n`. A frame is complete only once its `\n` has arrived; the trailing partial line waits
 * for the next message, and its size is capped so a peer that never sends `\n` cannot grow
 * memory without bound — in bytes, and in messages, so neither can one that sends it a byte at a
 * time.
 *
 * Splitting happens on bytes, not decoded text: a `\n` byte never occurs inside a multi-byte
 * UTF-8 sequence, so a character split across two binary messages is reassembled exactly and the
 * cap is measured in the same unit as `maxPayload`.
 */

const NEWLINE = 0x0a;

/**
 * Heap a held message of a partial line costs besides its bytes, for the bound on how many are
 * held: ~100 bytes of object each, so a peer sending its line one byte per message held ~100×
 * the byte cap (an audit: 16 Mi one-byte messages, 2.1 GB RSS under a 16 MiB cap).
 */
export const PARTIAL_CHUNK_COST = 256;

/** The outcome of feeding one message to {@link NdjsonSplitter.push}. */
export interface SplitResult {
  /** Complete, non-blank lines, decoded as UTF-8, without their `\n`. */
  readonly lines: string[];
  /** Set when the partial line outgrew the cap and was dropped (bytes discarded so far). */
  readonly overflowBytes?: number;
}

/** Stateful `\n` splitter for one connection. Never throws on input. */
export class NdjsonSplitter {
  /** Byte chunks of the current partial line, oldest first. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /**
   * True after an overflow until the next `\n`: the rest of the oversize line is discarded
   * silently so one bad line yields one error, not a second "not JSON" for its tail.
   */
  private discarding = false;

  /** Most messages one partial line may span: the byte cap over {@link PARTIAL_CHUNK_COST}, at least 16. */
  private readonly maxPartialChunks: number;

  /** @param maxPartialBytes cap of the partial-line buffer, bytes (= maxPayload). */
  constructor(private readonly maxPartialBytes: number) {
    this.maxPartialChunks = Math.max(16, Math.floor(maxPartialBytes / PARTIAL_CHUNK_COST));
  }

  /** Bytes currently held as a partial line (for tests and status). */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  /** Feed one WebSocket message (text or binary); returns the lines it completed. */
  push(message: Buffer | string): SplitResult {
    const chunk = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    const lines: string[] = [];
    let overflowBytes: number | undefined;
    let start = 0;
    let nl = chunk.indexOf(NEWLINE, start);
    while (nl !== -1) {
      const tail = chunk.subarray(start, nl);
      // A line completed by this `\n` may still be too long: partial (≤ cap) + tail.
      if (!this.discarding && this.partialBytes + tail.length > this.maxPartialBytes) {
        overflowBytes = (overflowBytes ?? 0) + this.partialBytes + tail.length;
        this.reset();
      } else {
        this.completeLine(tail, lines);
      }
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0 && !this.discarding) {
      const tooMany = this.partial.length >= this.maxPartialChunks;
      if (tooMany || this.partialBytes + rest.length > this.maxPartialBytes) {
        overflowBytes = (overflowBytes ?? 0) + this.partialBytes + rest.length;
        this.reset();
        this.discarding = true;
      } else {
        // Copy: ws may reuse the message buffer after the listener returns.
        this.partial.push(Buffer.from(rest));
        this.partialBytes += rest.length;
      }
    }
    return overflowBytes === undefined ? { lines } : { lines, overflowBytes };
  }

  /** Drop any partial line (connection closed). */
  reset(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.discarding = false;
  }

  /** Join the partial line with `tail` (up to a `\n`) and keep it unless it is blank. */
  private completeLine(tail: Buffer, into: string[]): void {
    if (this.discarding) {
      // The `\n` ends the oversize line: resume normal framing after it.
      this.discarding = false;
      return;
    }
    const bytes = this.partialBytes === 0 ? tail : Buffer.concat([...this.partial, tail]);
    this.partial = [];
    this.partialBytes = 0;
    const line = bytes.toString('utf8');
    if (line.trim() !== '') into.push(line);
  }
}
