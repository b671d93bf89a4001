/**
 * The `follow_up` op (relay contract section 4): `{op, session_key, kind, content, metadata}`,
 * token-less by design. Pure.
 */
import { z } from 'zod';

/**
 * The schema the host validates a `follow_up` action with. Loose on purpose: unknown keys reach
 * the outbound hook, which refuses credential-looking ones with `credential_in_follow_up` (a
 * stripping schema would drop a token silently and hide the agent's mistake) and drops the rest.
 */
export const FollowUpActionSchema = z.looseObject({
  op: z.literal('follow_up'),
  session_key: z.string().min(1),
  /** `<platform>.<capability>`, e.g. `discord.interaction_token`; absent ⇒ the session's single one. */
  kind: z.string().min(1).optional(),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
/** A validated `follow_up` action. */
export type FollowUpAction = z.infer<typeof FollowUpActionSchema>;

/** The store key of a session's recorded capabilities. */
export function capabilitiesKey(sessionKey: string): string {
  return `caps:${sessionKey}`;
}

/** The outcome of choosing a kind: the kind, or why none could be chosen. */
export type KindChoice = { readonly kind: string } | { readonly problem: 'none' | 'ambiguous' };

/** An explicit kind wins; otherwise the single recorded capability; none or several ⇒ a problem. */
export function chooseKind(explicit: string | undefined, recorded: unknown): KindChoice {
  if (explicit) return { kind: explicit };
  const kinds = Array.isArray(recorded)
    ? recorded.filter((k): k is string => typeof k === 'string' && k !== '')
    : [];
  if (kinds.length === 1) return { kind: kinds[0] as string };
  return { problem: kinds.length === 0 ? 'none' : 'ambiguous' };
}

/** The platform a kind belongs to: its prefix before the first `.`, or undefined. */
export function platformOfKind(kind: string): string | undefined {
  const dot = kind.indexOf('.');
  return dot > 0 ? kind.slice(0, dot) : undefined;
}
