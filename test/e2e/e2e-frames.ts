/**
 * The frames the e2e tests' connector injects (Discord messages and interactions as the
 * connector forwards them) and predicates over the frames it records.
 */
import { DISCORD_BOT_ID, discordChannelMessage, forwardFrame } from '../../sidecar/demo/samples.js';
import type { DevConnector, RecordedFrame } from '../../sidecar/dev-connector/index.js';

/** The Discord bot identity every e2e sidecar fronts. */
export const BOT_ID = DISCORD_BOT_ID;
/** The guild of every Discord chat here: what scope re-attach must put back on outbound ops. */
export const GUILD = '613425648685547541';

/** A Discord chat participant: one session per (channel, user) in a guild channel. */
export interface Chat {
  readonly channel: string;
  readonly user: string;
}

/** The session key of `chat` (spec: discord group ⇒ `agent:main:discord:group:<chan>:<user>`). */
export function sessionOf(chat: Chat): string {
  return `agent:main:discord:group:${chat.channel}:${chat.user}`;
}

/** A normalised Discord channel message (`inbound`), live unless the connector buffers it. */
export function discordMessage(chat: Chat, text: string, messageId: string): Record<string, unknown> {
  const from = { channel: chat.channel, userId: chat.user, userName: `user ${chat.user}`, guild: GUILD };
  return discordChannelMessage(from, text, messageId);
}

/** A passthrough forward (the connector already verified and ACKed it at its edge). */
export function forwardOf(platform: string, body: unknown, extra: Record<string, unknown> = {}) {
  return { ...forwardFrame(platform, BOT_ID, 'application/json', body), ...extra };
}

/**
 * A Discord APPLICATION_COMMAND interaction `/<name> <value>` from `chat`, as a
 * `passthrough_forward`. `token` puts an interaction token in the body (the connector should
 * have stripped it; the plugin must drop it).
 */
export function slashCommand(
  chat: Chat,
  interactionId: string,
  name: string,
  value: string,
  token?: string,
): Record<string, unknown> {
  const body = {
    id: interactionId,
    type: 2,
    ...(token ? { token } : {}),
    data: { name, type: 1, options: [{ name: 'arg', type: 3, value }] },
    guild_id: GUILD,
    channel_id: chat.channel,
    member: { user: { id: chat.user, username: `u${chat.user}` }, nick: null },
  };
  return { type: 'passthrough_forward', forward: forwardOf('discord', body) };
}

/** Is `f` an `inbound_ack` from the sidecar for `bufferId`? */
export const ackOf =
  (bufferId: string) =>
  (f: RecordedFrame): boolean =>
    f.dir === 'in' && f.frame.type === 'inbound_ack' && f.frame.bufferId === bufferId;

/** The fields of a wire action that the tests read. */
export interface WireAction {
  readonly op?: string;
  readonly chat_id?: string;
  readonly content?: string;
  readonly session_key?: string;
  readonly kind?: string;
  readonly reply_to?: unknown;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** The action of an `outbound` frame the sidecar wrote (empty for any other frame). */
export function actionOf(f: RecordedFrame): WireAction {
  return f.dir === 'in' && f.frame.type === 'outbound' ? ((f.frame.action ?? {}) as WireAction) : {};
}

/** Matches an `outbound` frame from the sidecar whose action satisfies `pred`. */
export const outboundWhere =
  (pred: (action: WireAction) => boolean) =>
  (f: RecordedFrame): boolean =>
    f.dir === 'in' && f.frame.type === 'outbound' && pred(actionOf(f));

/** Every `inbound_ack` the connector received, by bufferId. */
export function ackCounts(connector: DevConnector): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of connector.frames) {
    if (f.dir === 'in' && f.frame.type === 'inbound_ack') {
      const id = String(f.frame.bufferId);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}
