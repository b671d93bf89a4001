/**
 * A pino destination that keeps every line, raw and parsed, so tests assert on log records
 * (codes, fields) instead of message wording, and can grep the raw output for secrets.
 */
import type { DestinationStream } from 'pino';
import { createLogger, type Logger } from '../../core/log/logger.js';

/** One parsed log line: pino's fields plus whatever the caller logged. */
export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly code?: string;
  readonly [field: string]: unknown;
}

/** pino numeric levels by name. */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** A collecting destination and a root logger writing to it. */
export interface LogSink {
  /** The root logger writing into this sink. */
  readonly logger: Logger;
  /** The destination itself (to build other loggers on it). */
  readonly stream: DestinationStream;
  /** Every line so far, parsed. */
  readonly lines: LogLine[];
  /** Everything written so far, exactly as written. */
  text(): string;
  /** Lines carrying `code`. */
  withCode(code: string): LogLine[];
  /** Lines with message `msg`. */
  withMsg(msg: string): LogLine[];
  /** Resolve with the first line (already written or future) matching `pred`; reject after `timeoutMs`. */
  waitFor(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** Create a sink; the logger logs at `level` (default `debug`, so ignored-frame lines are kept). */
export function createLogSink(options: { level?: string } = {}): LogSink {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  const stream: DestinationStream = {
    write(chunk: string) {
      raw.push(chunk);
      for (const text of chunk.split('\n')) {
        if (text.trim() === '') continue;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { level: 0, msg: text };
        }
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.pred(line)) {
            waiters.delete(w);
            w.resolve(line);
          }
        }
      }
    },
  };
  const logger = createLogger({ level: options.level ?? 'debug', destination: stream });
  return {
    logger,
    stream,
    lines,
    text: () => raw.join(''),
    withCode: (code) => lines.filter((l) => l.code === code),
    withMsg: (msg) => lines.filter((l) => l.msg === msg),
    waitFor(pred, timeoutMs = 10_000) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<LogLine>((resolve, reject) => {
        const waiter = {
          pred,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching log line within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
