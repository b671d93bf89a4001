/**
 * Stdin of `relay-sidecar connector`: one JSON frame per line, injected into the dev connector.
 * Every bad line is one error line on stderr and reading goes on; a line longer than
 * {@link MAX_INJECT_LINE} is dropped, so a stray binary pipe cannot grow memory without bound.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { DevConnector } from '../dev-connector/index.js';
import type { CliIo } from './cli-io.js';
import { frameProblem, parseInjectLine } from './connector-format.js';

/** Longest stdin line accepted, characters (the sidecar's default maxPayload). */
export const MAX_INJECT_LINE = 16 * 1024 * 1024;

/**
 * Cuts a character stream into lines, numbering every line (blank ones too, so error messages
 * match the file) and dropping a line once it grows past `max` characters.
 */
export class LineCounter {
  private parts: string[] = [];
  private size = 0;
  private skipping = false;
  private lineNo = 0;

  constructor(private readonly max: number) {}

  /** Feed text: `onLine` per complete line, `onTooLong` once per line dropped for its length. */
  push(text: string, onLine: (line: string, n: number) => void, onTooLong: (n: number) => void): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const piece = nl < 0 ? text.slice(start) : text.slice(start, nl);
      if (!this.skipping) {
        this.parts.push(piece);
        this.size += piece.length;
        if (this.size > this.max) {
          this.skipping = true;
          this.parts = [];
          this.size = 0;
          onTooLong(this.lineNo + 1);
        }
      }
      if (nl < 0) return;
      this.lineNo += 1;
      if (!this.skipping) onLine(this.parts.join(''), this.lineNo);
      this.parts = [];
      this.size = 0;
      this.skipping = false;
      start = nl + 1;
    }
  }
}

/** Feed stdin lines to the connector until the stream ends (then `onEnd`). */
export function readInjections(stdin: Readable, dc: DevConnector, io: CliIo, onEnd: () => void): void {
  const lines = new LineCounter(MAX_INJECT_LINE);
  const decoder = new StringDecoder('utf8');
  const feed = (text: string) =>
    lines.push(
      text,
      (line, n) => inject(line, n, dc, io),
      (n) => io.stderr(`connector: stdin line ${n}: longer than ${MAX_INJECT_LINE} characters; skipped\n`),
    );
  stdin.on('data', (chunk: Buffer | string) =>
    feed(typeof chunk === 'string' ? chunk : decoder.write(chunk)),
  );
  stdin.on('end', () => {
    // A last line without its newline still counts (a trailing empty one is skipped as blank).
    feed(`${decoder.end()}\n`);
    onEnd();
  });
  stdin.on('error', () => onEnd());
}

/** Inject one stdin line; every problem is one line on stderr, and reading goes on. */
export function inject(line: string, lineNo: number, dc: DevConnector, io: CliIo): void {
  const parsed = parseInjectLine(line);
  if (parsed.kind === 'skip') return;
  const where = `connector: stdin line ${lineNo}`;
  if (parsed.kind === 'error') {
    io.stderr(`${where}: ${parsed.message}; skipped\n`);
    return;
  }
  const problem = frameProblem(parsed.frame);
  if (problem) io.stderr(`${where}: warning: ${problem}; sent as is\n`);
  if (parsed.buffered) {
    const bufferId = dc.sendBuffered(parsed.frame);
    if (dc.connectionCount() === 0) {
      io.stderr(`${where}: buffered as ${bufferId}; delivered when a sidecar completes its handshake\n`);
    }
    return;
  }
  try {
    dc.send(parsed.frame);
  } catch {
    io.stderr(`${where}: no sidecar connected; not sent (prefix the line with "!buffered " to hold it)\n`);
  }
}
