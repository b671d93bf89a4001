/**
 * The soak's stream of inbound events: Discord group chats, their edits and slash commands (with
 * interaction tokens), /stop interrupts, Telegram DMs, Slack channels, live or buffered, and now
 * and then a frame that fails its schema, a live frame sent twice or junk on the wire (and the
 * bad-input fault's forwards whose body fails its plugin's parsing). Every
 * event carries its marker `soak-<seq>` in its text, which is how the agent's ledger, the store
 * and the checks at the end tell the events apart.
 *
 * The draws from the seeded source happen in a fixed order per event (noise, buffered, poison
 * (push only), kind, then the kind's own): a seed names the same stream as long as that order
 * holds.
 */
import { randomBytes } from 'node:crypto';
import { discordChannelMessage, forwardFrame } from '../../sidecar/demo/samples.js';
import type { ChaosConnector, SendOutcome } from './chaos-connector.js';
import type { AgentLedger } from './soak-agents.js';
import type { SoakRun } from './soak-run.js';
import { committedSeqs } from './soak-store.js';

/** The bot of each platform (the sidecar's GATEWAY_RELAY_BOT_IDS). */
export const BOT_IDS = { discord: '987654321098765432', telegram: '5550001', slack: 'B0SOAK' };
const GUILD = '613425648685547541';
const SLACK_TEAM = 'T0SOAK';

/** What an event is: one the agent gets, or one to dead-letter ({@link neverDelivered}). */
export type Kind = 'discord' | 'edit' | 'slash' | 'telegram' | 'slack' | 'interrupt' | BadKind;
type BadKind = 'badframe' | 'badforward';

/**
 * A buffered frame the sidecar must dead-letter and ack, never deliver: one that fails its schema
 * (`badframe`), or a forward whose body its plugin cannot parse (`badforward`).
 */
export function neverDelivered(kind: Kind): boolean {
  return kind === 'badframe' || kind === 'badforward';
}

/** One event the soak sent. */
export interface SoakEvent {
  readonly seq: number;
  readonly kind: Kind;
  readonly buffered: boolean;
  /** The agent answers 4xx to it, always (push only): it must end as a dead letter. */
  readonly poison: boolean;
  readonly sentAt: number;
  readonly connSeq: number | undefined;
  readonly bufferId: string | undefined;
  /** Times the live frame was sent again (a duplicate; the later copy may be the one that lands). */
  resent: number;
  /** It was sent again before the agent had seen it: the copy may be what lands. */
  resentUnseen: boolean;
  /** Live, and cut off by an abrupt fault before it could be committed: loss allowed. */
  atRisk: boolean;
  readonly chatId: string;
  readonly messageId: string | undefined;
  /** The frame as sent (live duplicates are sent again from it). */
  readonly frame: Record<string, unknown>;
}

/** An event's kind and frame, before it is sent. */
interface Draft {
  readonly kind: Kind;
  readonly frame: Record<string, unknown>;
  readonly chatId: string;
  readonly messageId?: string;
}

/** The chats events land in: a few users per channel, so sessions interleave. */
const CHATS = {
  discord: ['c-1', 'c-2', 'c-3'].flatMap((channel) =>
    ['u-1', 'u-2', 'u-3'].map((user) => ({ channel, user })),
  ),
  telegram: ['tg-1', 'tg-2', 'tg-3'],
  slack: ['C1', 'C2'].flatMap((channel) => ['U1', 'U2'].map((user) => ({ channel, user }))),
};

/** Makes and sends the events; keeps every one of them for the checks. */
export class EventGenerator {
  /** Every event sent, in order. */
  readonly events: SoakEvent[] = [];
  /** Every interaction token put in a slash command (none may reach a log). */
  readonly interactionTokens: string[] = [];
  private readonly discordOriginals: SoakEvent[] = [];
  /** The user of each original message, so its edits land in the same session. */
  private readonly edits = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly run: SoakRun,
    private readonly connector: ChaosConnector,
    private readonly ledger: AgentLedger,
    private readonly mode: 'push' | 'pull',
    /** The sidecar's data dir (what it committed, for {@link markAtRisk}). */
    private readonly dataDir: string,
  ) {}

  /** Send one event (or a duplicate, or junk). */
  emit(): void {
    const noise = this.run.rand();
    if (noise < 0.03) {
      if (this.resendOne()) return;
    } else if (noise < 0.05) {
      // junk on the wire: never ends the read loop
      this.connector.sendRaw(
        this.run.pick(['not json\n', '[1,2]\n', '{"type":"inbound"}\n', '{"no":"type"}\n', '\n\n']),
      );
      this.run.bump('junkLines');
      return;
    }
    this.seq += 1;
    const n = this.seq;
    const buffered = this.run.rand() < 0.4;
    const poisonDraw = this.mode === 'push' && this.run.rand() < 0.02;
    const { kind, frame, chatId, messageId } = this.draft(n, `soak-${n}`, poisonDraw ? ' #reject' : '');
    // an interrupt is never buffered (the contract gives interrupt_inbound no bufferId): with no
    // connection a connector has no instance to route it to, and it is not sent at all
    const out =
      kind === 'interrupt'
        ? this.connector.resendLive(frame)
          ? { connSeq: this.connector.currentConnSeq }
          : {}
        : this.connector.deliver(frame, neverDelivered(kind) ? true : buffered);
    const poison = poisonDraw && kind !== 'interrupt' && !neverDelivered(kind);
    const ev = this.record(n, { kind, frame, chatId, messageId }, out, poison);
    if (kind === 'discord' && !ev.poison) this.discordOriginals.push(ev);
  }

  /**
   * Send `build(marker)` buffered as a `kind` event the sidecar must dead-letter and ack, never
   * deliver (the bad-input fault's forwards whose body fails its plugin's parsing).
   */
  emitToDeadLetter(kind: Kind, build: (marker: string) => Record<string, unknown>): void {
    this.seq += 1;
    const frame = build(`soak-${this.seq}`);
    this.record(this.seq, { kind, frame, chatId: 'c-1' }, this.connector.deliver(frame, true), false);
  }

  /** Keep event `n` as sent (`out`) for the checks. */
  private record(n: number, d: Draft, out: SendOutcome, poison: boolean): SoakEvent {
    const { bufferId, connSeq } = out;
    const unsent = bufferId === undefined && connSeq === undefined;
    const sent = { bufferId, connSeq, buffered: bufferId !== undefined, sentAt: Date.now(), atRisk: unsent };
    const ev: SoakEvent = {
      seq: n,
      ...d,
      messageId: d.messageId,
      ...sent,
      poison,
      resent: 0,
      resentUnseen: false,
    };
    this.events.push(ev);
    this.run.bump(`events.${d.kind}`);
    return ev;
  }

  /**
   * An abrupt cut of the connections with sequence in [fromSeq, upTo]: a live frame written to one
   * of them that is neither committed (in the store) nor seen by the agent was lost with it, which
   * the contract allows (live frames are never redelivered). Read once ingest has settled.
   */
  markAtRisk(fromSeq: number, upTo: number): void {
    const known = committedSeqs(this.dataDir, this.run.notes);
    for (const s of this.ledger.received) if (s.seq !== undefined) known.add(s.seq);
    for (const ev of this.events) {
      if (ev.buffered || ev.connSeq === undefined || ev.connSeq < fromSeq || ev.connSeq > upTo) continue;
      if (!known.has(ev.seq)) ev.atRisk = true;
    }
  }

  /**
   * A recent live frame again, as a connector retrying a send might: deduped by the contract's
   * key. False when there is none to send (the caller then sends a new event).
   */
  private resendOne(): boolean {
    const again = this.events
      .filter((e) => !e.buffered && e.kind !== 'interrupt' && !neverDelivered(e.kind))
      .slice(-50);
    if (again.length === 0) return false;
    const ev = this.run.pick(again);
    if (this.connector.resendLive(ev.frame)) {
      ev.resent += 1;
      if (!this.ledger.seenSeqs.has(ev.seq)) ev.resentUnseen = true;
      this.run.bump('liveDuplicates');
    }
    return true;
  }

  /** Draw the kind of event `n` and build its frame (`tag` marks a poison event). */
  private draft(n: number, marker: string, tag: string): Draft {
    const r = this.run.rand();
    if (r < 0.35) return this.discord(n, marker, tag);
    if (r < 0.45 && this.discordOriginals.length > 0) return this.edit(marker, tag);
    if (r < 0.6) return this.slash(n, marker, tag);
    if (r < 0.63) {
      // a /stop for one session: committed at once, delivered ahead of the session's queue
      const chat = this.run.pick(CHATS.discord);
      const chatId = `soak-${n}`;
      const frame = {
        type: 'interrupt_inbound',
        session_key: `agent:main:discord:group:${chat.channel}:${chat.user}`,
        chat_id: chatId,
      };
      return { kind: 'interrupt', frame, chatId };
    }
    if (r < 0.645) {
      // a buffered frame that fails its schema: dead-lettered and acked, never delivered
      const frame = { type: 'inbound', event: { text: `${marker} broken`, source: 'not an object' } };
      return { kind: 'badframe', frame, chatId: 'c-1' };
    }
    if (r < 0.8) return this.telegram(n, marker, tag);
    return this.slack(n, marker, tag);
  }

  private discord(n: number, marker: string, tag: string): Draft {
    const chat = this.run.pick(CHATS.discord);
    const messageId = `dm-${n}`;
    this.edits.set(messageId, chat.user);
    const frame = discordChannelMessage(
      { channel: chat.channel, userId: chat.user, userName: `user ${chat.user}`, guild: GUILD },
      `${marker} hello${tag}`,
      messageId,
    );
    return { kind: 'discord', frame, chatId: chat.channel, messageId };
  }

  /** An edit of one of the last 30 Discord originals, by the user who wrote it. */
  private edit(marker: string, tag: string): Draft {
    const orig = this.run.pick(this.discordOriginals.slice(-30));
    const m = orig.messageId as string;
    const chat = CHATS.discord.find((c) => c.channel === orig.chatId) ?? {
      channel: orig.chatId,
      user: 'u-1',
    };
    const frame = discordChannelMessage(
      { channel: chat.channel, userId: this.edits.get(m) ?? chat.user, userName: 'editor', guild: GUILD },
      `${marker} edit of soak-${orig.seq}${tag}`,
      m,
    );
    const event = frame.event as { source: Record<string, unknown> };
    event.source.message_is_edit = true;
    return { kind: 'edit', frame, chatId: orig.chatId, messageId: m };
  }

  /** A forwarded Discord interaction; half of them carry an interaction token. */
  private slash(n: number, marker: string, tag: string): Draft {
    const chat = this.run.pick(CHATS.discord);
    const itok = `itok-${randomBytes(16).toString('hex')}`;
    this.interactionTokens.push(itok);
    const body = {
      id: `9${String(n).padStart(17, '0')}`,
      type: 2,
      ...(this.run.rand() < 0.5 ? { token: itok } : {}),
      application_id: BOT_IDS.discord,
      data: { name: 'ask', type: 1, options: [{ name: 'arg', type: 3, value: `${marker}${tag}` }] },
      guild_id: GUILD,
      channel_id: chat.channel,
      member: { user: { id: chat.user, username: `u${chat.user}` }, nick: null },
    };
    const frame = {
      type: 'passthrough_forward',
      forward: forwardFrame('discord', BOT_IDS.discord, 'application/json', body),
    };
    return { kind: 'slash', frame, chatId: chat.channel };
  }

  private telegram(n: number, marker: string, tag: string): Draft {
    const chatId = this.run.pick(CHATS.telegram);
    const messageId = `tm-${n}`;
    const frame = {
      type: 'inbound',
      event: {
        text: `${marker} hi${tag}`,
        message_id: messageId,
        source: { platform: 'telegram', chat_id: chatId, chat_type: 'dm', user_id: `tu-${chatId}` },
      },
    };
    return { kind: 'telegram', frame, chatId, messageId };
  }

  private slack(n: number, marker: string, tag: string): Draft {
    const chat = this.run.pick(CHATS.slack);
    const messageId = `${1_700_000_000 + n}.000100`;
    const frame = {
      type: 'inbound',
      event: {
        text: `${marker} yo${tag}`,
        message_id: messageId,
        source: {
          platform: 'slack',
          chat_id: chat.channel,
          chat_type: 'group',
          user_id: chat.user,
          scope_id: SLACK_TEAM,
        },
      },
    };
    return { kind: 'slack', frame, chatId: chat.channel, messageId };
  }
}
