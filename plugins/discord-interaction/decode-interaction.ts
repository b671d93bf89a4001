/**
 * Decode a forward body into a Discord interaction object and strip any interaction `token`
 * before anything else looks at it. Pure; never throws.
 */

/** A decoded interaction, or why the body is not one. */
export type DecodedInteraction =
  | { readonly ok: true; readonly interaction: Record<string, unknown>; readonly tokensRemoved: number }
  | { readonly ok: false; readonly problem: 'not_utf8' | 'not_json' | 'not_object' };

/** Nesting bound for the token sweep: Discord payloads are shallow, a hostile one may not be. */
const MAX_DEPTH = 32;

/**
 * Parse `body` as UTF-8 JSON; it must be a plain object. Every `token` key, at any depth, is
 * deleted and counted: the connector should have removed the interaction token at its edge, and
 * one that slipped through must never reach the agent, the logs or the inbox.
 */
export function decodeInteraction(body: Uint8Array): DecodedInteraction {
  let text: string;
  try {
    // fatal: invalid UTF-8 is a malformed body, not a string with replacement characters
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { ok: false, problem: 'not_utf8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not_json' };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return { ok: false, problem: 'not_object' };
  const interaction = parsed as Record<string, unknown>;
  return { ok: true, interaction, tokensRemoved: removeTokens(interaction, 0) };
}

/** Delete every `token` key in place (objects and arrays, depth-bounded); returns how many. */
function removeTokens(value: unknown, depth: number): number {
  if (!value || typeof value !== 'object' || depth > MAX_DEPTH) return 0;
  let removed = 0;
  if (Array.isArray(value)) {
    for (const item of value) removed += removeTokens(item, depth + 1);
    return removed;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key === 'token') {
      delete record[key];
      removed += 1;
    } else {
      removed += removeTokens(record[key], depth + 1);
    }
  }
  return removed;
}
