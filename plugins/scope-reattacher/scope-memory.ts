/**
 * What scope-reattacher remembers per chat (relay contract section 4, "Scope re-attach"):
 * platform (unless `relay`), scope_id, user_id, profile and chat_type of the last event seen.
 * Pure.
 */
import { z } from 'zod';

/** One chat's memory, as stored. Every field optional: only what was known is kept. */
export const ScopeMemorySchema = z.object({
  platform: z.string().min(1).optional(),
  scope_id: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  chat_type: z.string().min(1).optional(),
});
/** One chat's memory. */
export type ScopeMemory = z.infer<typeof ScopeMemorySchema>;

/** The store key of a chat's memory. Chats are keyed by id alone: outbound ops carry no platform. */
export function memoryKey(chatId: string): string {
  return `chat:${chatId}`;
}

/** A non-empty string, or undefined. */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The memory an event teaches, or undefined when its `chat_id` is empty. The whole record is
 * replaced by the latest event (last seen wins), so a chat that moves to another profile or
 * scope is followed. `relay` is the placeholder identity of a legacy connector, not a platform.
 */
export function memoryFromEvent(
  event: Record<string, unknown>,
): { chatId: string; memory: ScopeMemory } | undefined {
  const source =
    event.source && typeof event.source === 'object' ? (event.source as Record<string, unknown>) : {};
  const chatId = str(source.chat_id);
  if (!chatId) return undefined;
  const platform = str(source.platform);
  const memory: ScopeMemory = {};
  if (platform && platform !== 'relay') memory.platform = platform;
  // [compat] first-generation connectors send guild_id instead of scope_id
  const scopeId = str(source.scope_id) ?? str(source.guild_id);
  if (scopeId) memory.scope_id = scopeId;
  const userId = str(source.user_id);
  if (userId) memory.user_id = userId;
  const profile = str(source.profile);
  if (profile) memory.profile = profile;
  const chatType = str(source.chat_type);
  if (chatType) memory.chat_type = chatType;
  return { chatId, memory };
}

/** Read a stored memory back; anything that fails the schema counts as unknown. */
export function parseMemory(stored: unknown): ScopeMemory | undefined {
  const parsed = ScopeMemorySchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}
