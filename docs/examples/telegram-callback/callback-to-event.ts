/**
 * Pure conversion of a Telegram `callback_query` update (an inline-keyboard button press) into a
 * MessageEvent. Kept apart from the plugin declaration so it is tested without a pool.
 */

/** An event, or why there is none. */
export type CallbackOutcome =
  | { readonly event: Record<string, unknown> }
  | { readonly drop: 'malformed' | 'not_a_callback' | 'no_data'; readonly detail: string };

/** How the conversion is shaped (the plugin's options). */
export interface CallbackOptions {
  /** Present the button data as a command: `/` + data, `message_type "command"`. */
  readonly dataAsCommand: boolean;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Telegram ids are integers (chat ids can be negative); the contract wants strings. */
function id(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Telegram chat types ⇒ contract chat types; a forum supergroup is a `forum`. */
function chatType(chat: Record<string, unknown>): string {
  if (chat.type === 'private') return 'dm';
  if (chat.type === 'channel') return 'channel';
  return chat.is_forum === true ? 'forum' : 'group';
}

/** Parse a webhook body and convert its `callback_query`. Never throws. */
export function callbackToEvent(
  body: Uint8Array,
  profile: string | null | undefined,
  options: CallbackOptions,
): CallbackOutcome {
  let update: Record<string, unknown> | undefined;
  try {
    update = record(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)));
  } catch {
    return { drop: 'malformed', detail: 'body is not UTF-8 JSON' };
  }
  if (!update) return { drop: 'malformed', detail: 'body is not a JSON object' };
  const query = record(update.callback_query);
  if (!query) return { drop: 'not_a_callback', detail: 'update has no callback_query' };
  const from = record(query.from);
  const queryId = id(query.id);
  if (!from || !queryId || id(from.id) === undefined)
    return { drop: 'malformed', detail: 'callback_query without id or from' };
  // game callbacks carry game_short_name instead of data: nothing for the agent to read
  if (typeof query.data !== 'string' || query.data === '')
    return { drop: 'no_data', detail: 'callback_query without data' };

  const message = record(query.message) ?? {};
  const chat = record(message.chat) ?? {};
  const name = [from.first_name, from.last_name].filter((p) => typeof p === 'string' && p !== '').join(' ');
  const source: Record<string, unknown> = {
    platform: 'telegram',
    chat_id: id(chat.id) ?? '',
    chat_type: chatType(chat),
    chat_name: typeof chat.title === 'string' ? chat.title : null,
    user_id: id(from.id),
    user_name: name || (typeof from.username === 'string' ? from.username : null),
    is_bot: from.is_bot === true,
    message_id: queryId,
    profile: profile || null,
  };
  const threadId = id(message.message_thread_id);
  if (threadId) source.thread_id = threadId;
  return {
    event: {
      text: options.dataAsCommand ? `/${query.data}` : query.data,
      message_type: options.dataAsCommand ? 'command' : 'text',
      message_id: queryId,
      // the message whose button was pressed, so the agent can edit it
      reply_to_message_id: id(message.message_id) ?? null,
      source,
    },
  };
}
