/**
 * Apply a chat's scope memory to an outbound action (relay contract section 4, "Scope
 * re-attach"): fill `metadata.scope_id` / `user_id` / `profile` when absent, mirror the scope into
 * `guild_id` for first-generation connectors, never overwrite, DMs get `user_id` only. Pure.
 */
import type { Identity } from '../../core/index.js';
import type { ScopeMemory } from './scope-memory.js';

/** Options that shape re-attachment. */
export interface ReattachOptions {
  /** [compat] Copy the scope into `metadata.guild_id` when that is absent. */
  readonly mirrorGuildId: boolean;
}

/** A value counts as present only when truthy: `""`, `null` and `0` are filled like absent. */
function missing(metadata: Record<string, unknown>, key: string): boolean {
  return !metadata[key];
}

/**
 * The metadata after re-attachment (a new object; the input is not touched). `memory` undefined
 * ⇒ only the guild mirror of an explicit `scope_id` can apply.
 */
export function reattachMetadata(
  metadata: Readonly<Record<string, unknown>>,
  memory: ScopeMemory | undefined,
  options: ReattachOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...metadata };
  const isDm = memory?.chat_type === 'dm';
  // a DM has no scope and one fixed profile route: only the user is re-attached
  const keys = isDm ? (['user_id'] as const) : (['scope_id', 'user_id', 'profile'] as const);
  for (const key of keys) {
    const known = memory?.[key];
    if (known && missing(out, key)) out[key] = known;
  }
  if (options.mirrorGuildId && !isDm && out.scope_id && missing(out, 'guild_id')) {
    out.guild_id = out.scope_id;
  }
  return out;
}

/**
 * The frame tags from memory: `platform` when known and not chosen yet; `botId` only when that
 * platform is a hello'd identity (the contract forbids a botId the connector was never told of).
 */
export function frameTags(
  memory: ScopeMemory | undefined,
  identities: readonly Identity[],
  current: { readonly platform?: string; readonly botId?: string },
): { platform?: string; botId?: string } {
  const platform = current.platform || memory?.platform;
  if (!platform) return {};
  const tags: { platform?: string; botId?: string } = { platform };
  const identity = identities.find((i) => i.platform === platform);
  const botId = current.botId || identity?.botId;
  if (identity && botId !== undefined) tags.botId = botId;
  return tags;
}
