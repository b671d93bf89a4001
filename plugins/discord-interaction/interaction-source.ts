/**
 * The `source` of a MessageEvent made from a Discord interaction (spec/plugins.md,
 * discord-interaction, "Source"). Pure.
 */

/** Discord channel types that are threads: announcement, public and private threads. */
const THREAD_CHANNEL_TYPES: ReadonlySet<unknown> = new Set([10, 11, 12]);

/** A record view of an unknown value (`{}` for anything that is not a plain object). */
export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A non-empty string, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * `String(value)`, or undefined when it cannot be converted: an object whose `toString` and
 * `valueOf` are not callable (`{"toString": 1}`), or arrays nested past the stack. Discord sends
 * neither, but the body is untrusted input and the conversion must never throw.
 */
export function stringOf(value: unknown): string | undefined {
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

/** The items of `list` that convert to strings (see {@link stringOf}), converted; the rest skipped. */
export function stringsOf(list: readonly unknown[]): string[] {
  return list.flatMap((v) => stringOf(v) ?? []);
}

/**
 * Source fields: chat from `channel_id` (a thread channel ⇒ `chat_type "thread"` with
 * `thread_id` = the channel and `parent_chat_id` = its parent), user from `member.user ?? user`,
 * display name `member.nick ?? user.global_name ?? user.username`, scope = guild.
 */
export function interactionSource(
  interaction: Record<string, unknown>,
  profile: string | null | undefined,
): Record<string, unknown> {
  const channel = asRecord(interaction.channel);
  const member = asRecord(interaction.member);
  const user = asRecord(member.user ?? interaction.user);
  const guildId = str(interaction.guild_id);
  const chatId = str(interaction.channel_id) ?? str(channel.id) ?? '';
  const isThread = THREAD_CHANNEL_TYPES.has(channel.type);
  const source: Record<string, unknown> = {
    platform: 'discord',
    chat_id: chatId,
    chat_type: isThread ? 'thread' : guildId ? 'group' : 'dm',
    user_id: str(user.id) ?? null,
    // ?? on purpose: an explicit null nick (no server nickname) falls through to the global name
    user_name: str(member.nick) ?? str(user.global_name) ?? str(user.username) ?? null,
    is_bot: user.bot === true,
    scope_id: guildId ?? null,
    message_id: str(interaction.id) ?? null,
    profile: str(profile) ?? null,
  };
  if (str(channel.name)) source.chat_name = channel.name;
  if (isThread) {
    source.thread_id = chatId;
    source.parent_chat_id = str(channel.parent_id) ?? null;
  }
  return source;
}
