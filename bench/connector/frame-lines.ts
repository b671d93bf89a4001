/**
 * The connector → sidecar frames the benchmarks send, as NDJSON lines built from a template (the
 * connector must never be the bottleneck). Each carries a marker `#b<tag>.<seq>@<sendUs>#` in the
 * text the agent finally sees, so the receiver can count distinct events and measure latency on
 * the machine's shared monotonic clock. Chats rotate over `sessions` so deliveries can run in
 * parallel (order is per session). A chat's messages come from one person, or rotate over
 * `speakers` members: a busy group chat, where every message changes what scope-reattacher
 * remembers for the chat (docs/benchmarks.md, seventh round).
 */

/** What a benchmark frame carries. */
export type FrameKind = 'inbound' | 'discord' | 'twilio';

/** The fields of one frame. */
export interface FrameFacts {
  readonly kind: FrameKind;
  /** Run tag: unique per measurement, so events of another run are never counted. */
  readonly tag: number;
  readonly seq: number;
  /** Send time, µs of the monotonic clock. */
  readonly sendUs: number;
  /** Distinct chats (sessions) to rotate over. */
  readonly sessions: number;
  /** Members of each chat who take turns (at most three); default 1: one person writes everything. */
  readonly speakers?: number;
  /** Set ⇒ a buffered delivery (the sidecar acks it after commit). */
  readonly bufferId?: string;
}

const GUILD = '613425648685547541';
/** The members of every chat, in turn order: id, username, display name, server nickname. */
const SPEAKERS = [
  ['80351110224678912', 'nelly', 'Nelly', 'Nel'],
  ['80351110224678913', 'omar', 'Omar', 'Om'],
  ['80351110224678914', 'priya', 'Priya', 'Pri'],
] as const;

/** Who wrote frame `seq` of a flow over `sessions` chats: each chat's next message, the next member. */
function speakerOf(f: FrameFacts): (typeof SPEAKERS)[number] {
  const members = Math.min(SPEAKERS.length, Math.max(1, f.speakers ?? 1));
  return SPEAKERS[Math.floor(f.seq / f.sessions) % members] as (typeof SPEAKERS)[number];
}
/** A realistic message length: most chat messages are a sentence or two. */
const FILLER = 'please summarise the thread above and list the next steps for the team';

/** The marker placed in the text. */
export function marker(tag: number, seq: number, sendUs: number): string {
  return `#b${tag}.${seq}@${sendUs}#`;
}

/** The bufferId a benchmark gives frame `seq` of run `tag`. */
export function bufferIdOf(tag: number, seq: number): string {
  return `bf${tag}-${seq}`;
}

/** One frame as an NDJSON line (with the trailing `\n`). */
export function frameLine(f: FrameFacts): string {
  // snowflakes are built as strings: they exceed Number's exact integer range
  const chat = `110000000000${String(f.seq % f.sessions).padStart(7, '0')}`;
  const buffer = f.bufferId ? `,"bufferId":"${f.bufferId}"` : '';
  switch (f.kind) {
    case 'inbound': {
      const [userId, , userName] = speakerOf(f);
      return `{"type":"inbound","event":{"text":"${FILLER} ${marker(f.tag, f.seq, f.sendUs)}","message_id":"m${f.tag}-${f.seq}","source":{"platform":"discord","chat_id":"${chat}","chat_type":"group","user_id":"${userId}","user_name":"${userName}","scope_id":"${GUILD}","message_id":"m${f.tag}-${f.seq}"}}${buffer}}\n`;
    }
    case 'discord':
      return `{"type":"passthrough_forward","forward":${JSON.stringify(discordForward(f, chat))}${buffer}}\n`;
    case 'twilio':
      return `{"type":"passthrough_forward","forward":${JSON.stringify(twilioForward(f))}${buffer}}\n`;
  }
}

/** The Discord interaction of a `/ask` slash command, as the connector forwards it (token removed). */
export function discordInteraction(f: FrameFacts, chat: string): Record<string, unknown> {
  const [id, username, globalName, nick] = speakerOf(f);
  return {
    id: `13${String(f.tag).padStart(6, '0')}${String(f.seq).padStart(11, '0')}`,
    type: 2,
    application_id: '987654321098765432',
    data: {
      name: 'ask',
      type: 1,
      options: [{ name: 'question', type: 3, value: `${FILLER} ${marker(f.tag, f.seq, f.sendUs)}` }],
    },
    guild_id: GUILD,
    channel_id: chat,
    member: { user: { id, username, global_name: globalName }, nick },
  };
}

function discordForward(f: FrameFacts, chat: string): Record<string, unknown> {
  const body = Buffer.from(JSON.stringify(discordInteraction(f, chat))).toString('base64');
  return {
    platform: 'discord',
    botId: '987654321098765432',
    method: 'POST',
    path: '/discord/webhook',
    headers: [['content-type', 'application/json']],
    bodyB64: body,
  };
}

/** The form body of an inbound SMS, as Twilio posts it. */
export function twilioForm(f: FrameFacts): string {
  const sid = `SM${String(f.tag).padStart(8, '0')}${String(f.seq).padStart(24, '0')}`;
  return new URLSearchParams({
    MessageSid: sid,
    AccountSid: 'AC0000000000000000000000000000abcd',
    From: `+1415${String(5_000_000 + (f.seq % f.sessions)).padStart(7, '0')}`,
    To: '+14155550100',
    Body: `${FILLER} ${marker(f.tag, f.seq, f.sendUs)}`,
    NumMedia: '0',
  }).toString();
}

function twilioForward(f: FrameFacts): Record<string, unknown> {
  return {
    platform: 'twilio',
    botId: 'AC0000000000000000000000000000abcd',
    method: 'POST',
    path: '/twilio/webhook',
    headers: [['content-type', 'application/x-www-form-urlencoded']],
    bodyB64: Buffer.from(twilioForm(f)).toString('base64'),
  };
}
