/**
 * When `ctx.store.remember` writes (docs/plugins.md, §6): one rule, shared by the durable store
 * (`KvStore`) and the in-memory stores that mimic it in tests.
 */

/**
 * Most time a `KvStore.remember` write adds past `ttlMs` (its slack), ms: one hour. The
 * slack is what lets `remember` skip writes: after a write, calls skip it until the slack is used
 * up, so an unchanged key is written at most once per slack period however often it is
 * remembered. An hour keeps that to one write per hour for a chat that sees an event every few
 * minutes (a per-minute slack would write on nearly each of its events, what `set` costs: benchmarks,
 * F1) while a remembered value outlives its `ttlMs` by an hour at most — 0.6 % of
 * scope-reattacher's 7 days. A `ttlMs` under two hours gets half of it as slack instead.
 */
export const REMEMBER_SLACK_MAX_MS = 3_600_000;

/** The slack a `remember` write adds past `ttlMs`: `min(ttlMs / 2, REMEMBER_SLACK_MAX_MS)`, ms. */
export function rememberSlackMs(ttlMs: number): number {
  return Math.min(ttlMs / 2, REMEMBER_SLACK_MAX_MS);
}

/**
 * The one rule of `KvStore.remember`, exported for in-memory stores that mimic the durable
 * one: the expiry to write (epoch ms), or undefined to skip the write. It writes when nothing is
 * stored, another value is, the stored value has no expiry, or it would expire before
 * `now + ttlMs`; a write sets the expiry to `now + ttlMs + slack` ({@link rememberSlackMs}). So a
 * remembered value lives at least `ttlMs` after the last `remember` of it (written or skipped),
 * and at most `ttlMs + slack` after it.
 */
export function rememberWrite(
  stored: { readonly value: string; readonly expires_at: number | null } | undefined,
  json: string,
  ttlMs: number,
  now: number,
): number | undefined {
  // null (kept until deleted) is rewritten too: `remember` promises an expiry
  const lastsLongEnough = stored?.expires_at != null && stored.expires_at >= now + ttlMs;
  if (lastsLongEnough && stored.value === json) return undefined;
  return Math.ceil(now + ttlMs + rememberSlackMs(ttlMs));
}
