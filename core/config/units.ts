/**
 * The units of the configuration schema's keys: a duration some timer waits for, an age, a count.
 * Every default lives with its key (schema.ts, relay-schema.ts).
 */
import { z } from 'zod';

/**
 * Longest wait a Node timer takes, ms (~24.8 days): a longer one fires after 1 ms instead, so an
 * `agent.timeoutMs` of 3 000 000 000 timed out every push attempt at once, retried forever.
 */
export const MAX_TIMER_MS = 2_147_483_647;
/** A duration some timer waits for, ms: refused past what a timer can wait. */
export const ms = (def: number) =>
  z
    .number()
    .int()
    .positive()
    .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (~24.8 days): longer waits fire at once in Node`)
    .default(def);
/** An age compared with timestamps, ms (never a timer: may exceed MAX_TIMER_MS). */
export const ageMs = (def: number) => z.number().int().positive().default(def);
/** A positive whole number of things (or bytes). */
export const count = (def: number) => z.number().int().positive().default(def);
