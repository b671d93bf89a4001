/**
 * The root pino logger. One per process; parts take `child({ component })`.
 *
 * Secrets are redacted by path (tokens, secrets, Authorization headers, interaction tokens) as a
 * second line of defence: code never passes a secret to the logger in the first place.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths whose values are replaced by `[redacted]`: the relay's and the API's secrets at the top
 * level and up to two levels down, and a Discord interaction token a plugin's hook might log. Each
 * wildcard path costs every log line about a microsecond (21 paths: ~25 µs a line against ~5
 * without redaction), so the list names what the code and the plugins can log, not every name a
 * secret could have.
 */
export const REDACT_PATHS: readonly string[] = [
  'secret',
  'token',
  'apiToken',
  'identityToken',
  'enrollToken',
  'enrollmentToken',
  'deliveryKey',
  'interaction_token',
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers.Authorization',
  'req.headers.authorization',
  '*.secret',
  '*.token',
  '*.apiToken',
  '*.authorization',
  '*.Authorization',
  '*.identityToken',
  '*.enrollToken',
  '*.enrollmentToken',
  '*.deliveryKey',
  '*.interaction_token',
  '*.*.secret',
  '*.*.token',
  '*.*.apiToken',
  '*.*.identityToken',
  '*.*.enrollToken',
  '*.*.deliveryKey',
];

/** Options of the root logger. */
export interface LoggerOptions {
  /** pino level; default `info`. */
  readonly level?: string;
  /** Human-readable output (dev only); default false. */
  readonly pretty?: boolean;
  /** Where lines go; default stdout. Tests pass a sink to parse lines. */
  readonly destination?: DestinationStream;
}

/** Create the root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(base);
}

/** A logger that discards everything (for tools that must stay quiet). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
