/**
 * Notices two agents (or two copies of one) reading `GET /v1/events` at once. The contract keeps
 * one stream at a time and a new one replaces the old (agent-api.md), so two consumers take
 * turns: each reconnect re-sends every unacked delivery to the newcomer, and both see them all.
 * Nothing fails, so nothing else would say so; replacements close together are the sign.
 */
import type { Clock } from '../../core/di/clock.js';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';

/** Replacements within {@link TURNS_WINDOW_MS} that make an episode. */
export const TURNS_THRESHOLD = 3;
/**
 * The window, ms. One agent whose stream is replaced by its own reconnect (a read timeout while
 * the old socket still looked open) does so once, not three times a minute.
 */
export const TURNS_WINDOW_MS = 60_000;

/** Counts replacements of a still-attached stream; warns once per episode of taking turns. */
export class StreamTurns {
  /** Times of the last replacements, at most {@link TURNS_THRESHOLD}, oldest first. */
  private readonly recent: number[] = [];
  /** Warned, and no quiet window has passed since. */
  private warned = false;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Metrics | undefined,
  ) {}

  /** A new stream replaced one still attached; `unacked` deliveries go again to the newcomer. */
  replaced(unacked: number): void {
    const now = this.clock.now();
    const last = this.recent.at(-1);
    // a quiet window ends the episode: a later one is warned about again
    if (last !== undefined && now - last > TURNS_WINDOW_MS) this.warned = false;
    this.recent.push(now);
    if (this.recent.length > TURNS_THRESHOLD) this.recent.shift();
    const first = this.recent[0] ?? now;
    if (this.warned || this.recent.length < TURNS_THRESHOLD || now - first > TURNS_WINDOW_MS) return;
    this.warned = true;
    reportError(
      this.log,
      this.metrics,
      'CORE_ERR_DELIVERY_STREAMS_COMPETE',
      'agent event streams take turns',
      { replaced: TURNS_THRESHOLD, withinMs: now - first, unacked },
    );
  }
}
