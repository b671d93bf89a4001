/**
 * NDJSON splitting of what the sidecar writes: messages are concatenated and cut on `\n`, the
 * trailing partial line waits for the next message, blank lines are skipped, and the partial
 * buffer is capped so a peer that never sends `\n` cannot grow it without bound.
 */

/** The outcome of feeding one message. */
export interface SplitResult {
  /** Complete, non-blank lines (without `\n`). */
  lines: string[];
  /** True when the partial line exceeded the cap and was dropped. */
  overflowed: boolean;
}

/** A per-connection line splitter. */
export class LineSplitter {
  private partial = '';

  /** @param maxPartial Largest partial line kept, in UTF-16 code units (≈ bytes for ASCII). */
  constructor(private readonly maxPartial: number) {}

  /** Append one message and return the lines it completed. */
  push(chunk: string): SplitResult {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    let overflowed = false;
    if (this.partial.length > this.maxPartial) {
      this.partial = '';
      overflowed = true;
    }
    return { lines: parts.filter((l) => l.trim() !== ''), overflowed };
  }
}

/** Parse one line as a JSON object, or undefined when it is not JSON or not an object. */
export function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
