/**
 * Pure helpers of the outbound path: build and validate an `outbound` frame with its per-frame
 * tags, and read a `get_chat_info` result (relay contract sections 3 and 4).
 */
import type { z } from 'zod';
import type { Action, OutboundResult } from '../protocol/actions.js';
import { OutboundFrameSchema } from '../protocol/frames.js';

/** A validated `outbound` frame. */
export type OutboundFrame = z.infer<typeof OutboundFrameSchema>;

/** Per-frame routing tags learned from inbound traffic. */
export interface OutboundTags {
  readonly platform?: string;
  readonly botId?: string;
}

/** A fronted identity (one hello). */
export interface TagIdentity {
  readonly platform: string;
  readonly botId: string;
}

/**
 * Build the frame. `platform` is sent when known; `botId` only when that platform is a hello'd
 * identity (the caller's botId, else the identity's own), and never empty.
 */
export function buildOutboundFrame(
  requestId: string,
  action: Action,
  tags: OutboundTags,
  identities: readonly TagIdentity[],
): { ok: true; frame: OutboundFrame } | { ok: false; reason: string } {
  const platform = tags.platform || undefined;
  const identity = platform === undefined ? undefined : identities.find((i) => i.platform === platform);
  const botId = identity ? tags.botId || identity.botId || undefined : undefined;
  const parsed = OutboundFrameSchema.safeParse({
    type: 'outbound',
    requestId,
    action,
    ...(platform === undefined ? {} : { platform }),
    ...(botId === undefined ? {} : { botId }),
  });
  if (parsed.success) return { ok: true, frame: parsed.data };
  const reason = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return { ok: false, reason: reason.slice(0, 200) };
}

/** Chat name and type, as `getChatInfo` returns them. */
export interface ChatInfo {
  readonly name: string;
  readonly type: string;
}

/**
 * Read `chat_info{name,type}` or a flat `{name,type}`; missing parts fall back to the chat id
 * and `dm` — also when the call failed, so callers always get an answer.
 */
export function chatInfoOf(result: OutboundResult, chatId: string): ChatInfo {
  const nested = result.chat_info;
  const source = (nested && typeof nested === 'object' ? nested : result) as Record<string, unknown>;
  const name = typeof source.name === 'string' && source.name !== '' ? source.name : chatId;
  const type = typeof source.type === 'string' && source.type !== '' ? source.type : 'dm';
  return { name, type };
}

/** The answer given without asking when the connector does not advertise `get_chat_info`. */
export function localChatInfo(chatId: string): ChatInfo {
  return { name: chatId, type: 'dm' };
}
