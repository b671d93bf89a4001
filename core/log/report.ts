/**
 * Report a failure once: one log line with its stable code, one count in `relay_errors_total`.
 */
import type { ErrorCode } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from './logger.js';

/** Log `msg` at `level` with `code` and `fields`, and count the code. Fields must hold no secret. */
export function reportError(
  log: Logger,
  metrics: Metrics | undefined,
  code: ErrorCode,
  msg: string,
  fields: Record<string, unknown> = {},
  level: 'warn' | 'error' | 'debug' | 'info' = 'warn',
): void {
  metrics?.errors.inc({ code });
  log[level]({ code, ...fields }, msg);
}
