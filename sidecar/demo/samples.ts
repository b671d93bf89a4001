/**
 * The frames the demo's connector injects: a Discord message, a Discord slash command and a
 * button press (interactions as the connector forwards them), a Twilio SMS webhook, an interrupt.
 */

const GUILD = '613425648685547541';
const CHANNEL = '1100000000000000001';
const USER = { id: '80351110224678912', username: 'nelly', global_name: 'Nelly' };

/** Base64 of a JSON value or a string. */
function b64(body: unknown): string {
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64');
}

/** The Discord bot identity the demo fronts. */
export const DISCORD_BOT_ID = '987654321098765432';

/**
 * A passthrough forward as the connector sends it (already verified and ACKed at its edge):
 * `body` JSON-encoded unless it is a string.
 */
export function forwardFrame(
  platform: string,
  botId: string,
  contentType: string,
  body: unknown,
): Record<string, unknown> {
  return {
    platform,
    botId,
    method: 'POST',
    path: `/${platform}/webhook`,
    headers: [['content-type', contentType]],
    bodyB64: b64(body),
  };
}

function forward(platform: string, contentType: string, body: unknown): Record<string, unknown> {
  const botId = platform === 'discord' ? DISCORD_BOT_ID : 'AC0000000000000000000000000000abcd';
  return forwardFrame(platform, botId, contentType, body);
}

/** A normalised Discord guild-channel message (`inbound`) from one user. */
export function discordChannelMessage(
  chat: {
    readonly channel: string;
    readonly userId: string;
    readonly userName: string;
    readonly guild: string;
  },
  text: string,
  messageId: string,
): Record<string, unknown> {
  return {
    type: 'inbound',
    event: {
      text,
      message_id: messageId,
      source: {
        platform: 'discord',
        chat_id: chat.channel,
        chat_type: 'group',
        user_id: chat.userId,
        user_name: chat.userName,
        scope_id: chat.guild,
        message_id: messageId,
      },
    },
  };
}

/** The demo's Discord channel message (`inbound`). */
export function discordMessage(text: string, messageId: string): Record<string, unknown> {
  return discordChannelMessage(
    { channel: CHANNEL, userId: USER.id, userName: USER.global_name, guild: GUILD },
    text,
    messageId,
  );
}

/** `/model gpt-x` as a Discord APPLICATION_COMMAND interaction (token already stripped). */
export function slashCommand(): Record<string, unknown> {
  return forward('discord', 'application/json', {
    id: '1300000000000000001',
    type: 2,
    data: { name: 'model', type: 1, options: [{ name: 'name', type: 3, value: 'gpt-x' }] },
    guild_id: GUILD,
    channel_id: CHANNEL,
    member: { user: USER, nick: 'Nel' },
  });
}

/** A button press answering prompt `promptId` with `optionId` (MESSAGE_COMPONENT). */
export function buttonPress(
  promptId: string,
  optionId: string,
  promptMessageId: string,
): Record<string, unknown> {
  return forward('discord', 'application/json', {
    id: '1300000000000000004',
    type: 3,
    data: { custom_id: `hp1:${promptId}:${optionId}`, component_type: 2 },
    message: { id: promptMessageId, channel_id: CHANNEL },
    guild_id: GUILD,
    channel_id: CHANNEL,
    member: { user: USER, nick: null },
  });
}

/** An SMS as Twilio posts it (form-encoded). */
export function twilioSms(text: string): Record<string, unknown> {
  const form = new URLSearchParams({
    MessageSid: 'SM0123456789abcdef0123456789abcdef',
    AccountSid: 'AC0000000000000000000000000000abcd',
    From: '+14155551234',
    To: '+14155550100',
    Body: text,
    NumMedia: '0',
  });
  return forward('twilio', 'application/x-www-form-urlencoded', form.toString());
}

/** The session key of the demo's Discord channel user. */
export const DISCORD_SESSION = `agent:main:discord:group:${CHANNEL}:${USER.id}`;
/** The demo's Discord channel id. */
export const DISCORD_CHANNEL = CHANNEL;
/** The demo's guild id (what scope re-attach must add to outbound metadata). */
export const DISCORD_GUILD = GUILD;
