/**
 * One accepted sidecar socket: turns what the sidecar writes into recorded, schema-checked
 * frames, and writes frames back (recording them too). Nothing the peer sends can throw out of
 * here: bad lines are recorded as `__malformed` and skipped.
 */
import { StringDecoder } from 'node:string_decoder';
import type { RawData, WebSocket } from 'ws';
import { type OutgoingFrame, OutgoingFrameSchema } from '../../core/protocol/frames.js';
import { LineSplitter, parseObject } from './line-splitter.js';
import type { RecordedFrame } from './options.js';

/** What a connection reports to its owner. */
export interface ConnectionHooks {
  /** Record a frame (both directions). */
  record(entry: RecordedFrame): void;
  /** A frame from the sidecar that passed its schema. */
  dispatch(conn: Connection, frame: OutgoingFrame): void;
}

/** Longest close reason a WebSocket close frame can carry, in bytes. */
const MAX_REASON_BYTES = 123;

/** An accepted, authorized connection from the sidecar. */
export class Connection {
  /** False from the moment either side starts closing. */
  open = true;
  /** True once the first valid hello was processed. */
  helloSeen = false;
  /** True once the first hello was answered with a descriptor (the handshake completed). */
  ready = false;
  private readonly lines: LineSplitter;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    maxPartial: number,
    private readonly hooks: ConnectionHooks,
  ) {
    this.lines = new LineSplitter(maxPartial);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    // Socket errors (bad frames, resets) end in 'close'; swallowing here keeps the process alive.
    ws.on('error', () => {});
    ws.on('close', () => {
      this.open = false;
    });
  }

  /**
   * Send a frame: an object as JSON + `\n` (recorded as is), a string as raw bytes (recorded as
   * `__raw`). Returns false when the socket is no longer open (nothing sent, nothing recorded).
   */
  send(frame: Record<string, unknown> | string, binary = false): boolean {
    if (!this.open || this.ws.readyState !== this.ws.OPEN) return false;
    const text = typeof frame === 'string' ? frame : `${JSON.stringify(frame)}\n`;
    this.ws.send(binary ? Buffer.from(text, 'utf8') : text, { binary }, () => {});
    const recorded = typeof frame === 'string' ? { type: '__raw', raw: frame, binary } : frame;
    this.hooks.record({ dir: 'out', conn: this.id, frame: recorded, at: Date.now() });
    return true;
  }

  /** Start the closing handshake with `code` and `reason` (truncated to fit a close frame). */
  close(code: number, reason: string): void {
    // Not open from now on, so a reconnect is "the next connection" even before the close ends.
    this.open = false;
    try {
      this.ws.close(code, truncateReason(reason));
    } catch {
      this.ws.terminate();
    }
  }

  /**
   * Stop reading the socket until the returned function is called: what the sidecar writes
   * meanwhile waits in the kernel's buffers, then in its own send buffer (a connector stalled by a
   * slow consumer or a GC pause). Protocol pings wait too, so no pong goes back meanwhile.
   */
  pauseReading(): () => void {
    this.ws.pause();
    return () => this.ws.resume();
  }

  /** Destroy the socket without a close frame. */
  terminate(): void {
    this.open = false;
    this.ws.terminate();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    // Text and binary are both UTF-8 NDJSON; the decoder keeps split multi-byte characters.
    const { lines, overflowed } = this.lines.push(this.decoder.write(buf));
    for (const line of lines) this.onLine(line);
    if (overflowed) this.recordIn({ type: '__overflow', binary: isBinary });
  }

  private onLine(line: string): void {
    const obj = parseObject(line);
    if (!obj) {
      this.recordIn({ type: '__malformed', raw: line.slice(0, 1000) });
      return;
    }
    const parsed = OutgoingFrameSchema.safeParse(obj);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.recordIn(obj, `${issue?.path.join('.') || 'frame'}: ${issue?.message ?? 'invalid'}`);
      return;
    }
    this.recordIn(obj);
    this.hooks.dispatch(this, parsed.data);
  }

  private recordIn(frame: Record<string, unknown>, invalid?: string): void {
    const entry: RecordedFrame = { dir: 'in', conn: this.id, frame, at: Date.now() };
    if (invalid !== undefined) entry.invalid = invalid;
    this.hooks.record(entry);
  }
}

/** Cut a close reason to at most 123 UTF-8 bytes without splitting a character. */
export function truncateReason(reason: string): string {
  const chars = [...reason];
  while (Buffer.byteLength(chars.join(''), 'utf8') > MAX_REASON_BYTES) chars.pop();
  return chars.join('');
}
