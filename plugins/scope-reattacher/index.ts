/**
 * scope-reattacher: remembers, per chat, where each conversation lives (platform, scope, user,
 * profile, chat type) from every inbound event, and re-attaches it to every chat-addressed
 * outbound op. A hosted multi-tenant connector routes egress by this metadata and declines
 * actions without it, so `relay-sidecar doctor` warns when this plugin is off.
 */

import { z } from 'zod';
import { definePlugin, isChatAddressed } from '../../core/index.js';
import { frameTags, reattachMetadata } from './reattach.js';
import { memoryFromEvent, memoryKey, parseMemory } from './scope-memory.js';

/** Seven days, the default memory lifetime. */
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

/** Options of scope-reattacher. */
const OptionsSchema = z.strictObject({
  /**
   * How long a chat's memory lives after its last event, ms: at least this, and at most an hour
   * (half of it when shorter than two hours) longer. Default 7 days.
   */
  ttlMs: z.number().int().positive().default(SEVEN_DAYS_MS),
  /** [compat] Mirror `scope_id` into `metadata.guild_id` for first-generation connectors. Default true. */
  mirrorGuildId: z.boolean().default(true),
});

export default definePlugin({
  name: 'scope-reattacher',
  version: '1.0.0',
  options: OptionsSchema,
  inbound({ event }, ctx) {
    const learned = memoryFromEvent(event);
    // remembered on every event, so the memory lives at least ttlMs after the chat was last
    // seen; an unchanged memory is written at most once an hour (a read, not a write, per event)
    if (learned) ctx.store.remember(memoryKey(learned.chatId), learned.memory, ctx.options.ttlMs);
    return undefined;
  },
  outbound: {
    // every op, filtered here: plugin-defined ops that address a chat are re-attached too
    ops: '*',
    hook({ action, platform, botId }, ctx) {
      if (!isChatAddressed(action.op)) return undefined;
      // a plugin-defined op without a chat has nothing to re-attach: leave it exactly as it is
      if (typeof action.chat_id !== 'string' || action.chat_id === '') return undefined;
      const memory = parseMemory(ctx.store.get(memoryKey(action.chat_id)));
      const metadata = reattachMetadata(action.metadata ?? {}, memory, ctx.options);
      const tags = frameTags(memory, ctx.identities, { platform, botId });
      return { action: { ...action, metadata }, ...tags };
    },
  },
});
