/**
 * The seeded chaos soak: the real sidecar CLI process, the real loopback connector and a real
 * loopback agent (push or pull), a stream of events (Discord group chats, edits, slash commands
 * with interaction tokens, Telegram DMs, Slack channels; live and buffered) and agent actions
 * going out, while faults are mixed in at random: connector restarts, drops with close codes and
 * abrupt terminations, an unsolicited going_idle_ack; agent 5xx, 429, timeouts, slow answers,
 * resets and restarts; sidecar SIGTERM and SIGKILL on the same data dir. At the end, with the
 * faults off, everything drains and the end-to-end invariants are checked (see `checkInvariants`).
 *
 * Everything random comes from one seeded generator, so a seed names a fault schedule (the
 * timing of a loaded machine still varies between runs).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../core/store/database.js';
import { discordChannelMessage, forwardFrame } from '../../sidecar/demo/samples.js';
import { cliPath, type ProcessExit, SidecarProcess } from '../../test/helpers/sidecar-process.js';
import { repoRoot } from '../lib/paths.js';
import { ChaosConnector } from './chaos-connector.js';
import { PullAgent, PushAgent, type Seen } from './soak-agents.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  readonly seed: number;
  /** How long faults are mixed in, ms (the drain after it is extra). */
  readonly durationMs: number;
  readonly mode: 'push' | 'pull';
  /** Mean gap between events, ms; default 25. */
  readonly eventGapMs?: number;
  /** Mean gap between faults, ms; default 1 500. */
  readonly faultGapMs?: number;
  /**
   * Run every kind of fault at least once (in a seeded order) before going random, running past
   * the duration if needed: the short CI version covers them all.
   */
  readonly cover?: boolean;
  /** Tunables deep-merged over the soak's own (e.g. `{"inbox":{"maxIngestPending":8}}`). */
  readonly sidecarConfig?: Record<string, unknown>;
  /** Scales how long a fault lasts (connector or agent down, flaky spell); default 1. */
  readonly faultScale?: number;
  /** Longest wait for the drain after the faults stop, ms; default 60 000. */
  readonly drainMs?: number;
  /** Sidecar LOG_LEVEL; default debug (the secret check reads every line). */
  readonly logLevel?: string;
  /** Write each sidecar life's output here (`life-<n>.log`), for the chase after a violation. */
  readonly logsDir?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** The outcome. */
export interface SoakReport {
  readonly seed: number;
  readonly mode: 'push' | 'pull';
  readonly passed: boolean;
  /** Invariant violations, one line each (empty ⇒ passed). */
  readonly violations: string[];
  /** What happened: counts of events, faults, lives, deliveries. */
  readonly stats: Record<string, number>;
  /** Notes that are not violations (documented non-guarantees that showed up, …). */
  readonly notes: string[];
  /** The fault schedule as it ran (ms since start, fault). */
  readonly faults: string[];
}

const GATEWAY_ID = 'soak-gateway';
const BOT_IDS = { discord: '987654321098765432', telegram: '5550001', slack: 'B0SOAK' };
const GUILD = '613425648685547541';
const SLACK_TEAM = 'T0SOAK';

/** Codes docs/errors.md calls a bug: never expected, whatever the faults. */
const BUG_CODES = new Set([
  'CORE_ERR_API_HANDLER_FAILED',
  'CORE_ERR_INTERNAL_THREW',
  'CORE_ERR_ROUTER_HANDLER_FAILED',
]);

type Kind = 'discord' | 'edit' | 'slash' | 'telegram' | 'slack' | 'interrupt' | 'badframe';

/** One event the soak sent. */
interface SoakEvent {
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

/** mulberry32: small, fast, seeded. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run one soak; never throws for a violation (it is in the report). */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const rand = seeded(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const say = opts.log ?? (() => {});
  const t0 = Date.now();
  const since = () => Date.now() - t0;
  const violations: string[] = [];
  const notes: string[] = [];
  const faults: string[] = [];
  const stats: Record<string, number> = {};
  const bump = (k: string, n = 1) => {
    stats[k] = (stats[k] ?? 0) + n;
  };
  const dir = mkdtempSync(join(tmpdir(), 'relay-soak-'));
  const dataDir = join(dir, 'data');
  const secret = `soak-relay-secret-${randomBytes(12).toString('hex')}`;
  const token = `soak-api-token-${randomBytes(12).toString('hex')}`;
  const interactionTokens: string[] = [];
  let chaos = true;

  // ── the connector
  const connector = await ChaosConnector.start({
    secret,
    answerDelay: () => {
      if (!chaos) return 0;
      const r = rand();
      if (r < 0.02) return undefined; // never answered: the sidecar's outbound timeout
      return r < 0.2 ? Math.floor(rand() * 400) : 0;
    },
  });

  // ── actions the agent sends out (nonce in the content) and what the API answered
  let nonce = 0;
  const actionResults = new Map<
    string,
    { success: boolean | undefined; status: number; code?: string; seq?: number; op: string }
  >();
  const sendAction = (seen: Seen): Record<string, unknown>[] => {
    if (!seen.chatId || seen.type !== 'message') return [];
    nonce += 1;
    // a slash command's session answers by follow_up without naming the kind: the recorded
    // capability must be there once the delivery that carried it reached the agent
    if (seen.capabilities.length > 0 && seen.session) {
      return [{ op: 'follow_up', session_key: seen.session, content: `act-${nonce}`, metadata: {} }];
    }
    return [{ op: 'send', chat_id: seen.chatId, content: `act-${nonce}`, reply_to: null, metadata: {} }];
  };
  const postAction = async (base: string, seen: Seen) => {
    const [action] = sendAction(seen);
    if (!action) return;
    const content = String(action.content);
    try {
      const res = await fetch(`${base}/v1/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(action),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json().catch(() => ({}))) as {
        result?: { success?: boolean };
        error?: { code?: string };
      };
      actionResults.set(content, {
        success: body.result?.success,
        status: res.status,
        op: String(action.op),
        ...(body.error?.code ? { code: body.error.code } : {}),
        ...(seen.seq !== undefined ? { seq: seen.seq } : {}),
      });
    } catch {
      actionResults.set(content, { success: undefined, status: 0, op: String(action.op) });
    }
  };

  // ── the sidecar process
  let proc: SidecarProcess | undefined;
  const lives: SidecarProcess[] = [];
  const expectedEnd = new Map<SidecarProcess, NodeJS.Signals>();
  const base = () => {
    try {
      return proc?.running ? proc.apiUrl : undefined;
    } catch {
      return undefined;
    }
  };

  // ── the agent
  let push: PushAgent | undefined;
  let pull: PullAgent | undefined;
  if (opts.mode === 'push') {
    push = await PushAgent.start(token, rand, 1_200, (seen) => (rand() < 0.3 ? sendAction(seen) : []));
  } else {
    pull = new PullAgent(token, rand, base, (seen, b) => {
      if (rand() < 0.25) void postAction(b, seen);
    });
  }
  const ledger = (push?.ledger ?? pull?.ledger) as NonNullable<typeof push>['ledger'];

  const config = {
    relay: {
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      pingIntervalMs: 1_000,
      pongTimeoutMs: 10_000,
      handshakeTimeoutMs: 10_000,
      outboundTimeoutMs: 3_000,
      // a connection up this long resets the 4401 strikes (the soak's one-off 4401s are far apart)
      stableAfterMs: 2_000,
    },
    agent: {
      mode: opts.mode,
      timeoutMs: 1_500,
      retryBaseMs: 20,
      retryMaxMs: 200,
      maxRejections: 3,
    },
    pool: { taskTimeoutMs: 15_000 },
    shutdown: { budgetMs: 5_000 },
  };
  const configPath = join(dir, 'sidecar-config.json');
  writeFileSync(configPath, JSON.stringify(mergeDeep(config, opts.sidecarConfig ?? {})));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    SIDECAR_LISTEN: '127.0.0.1:0',
    GATEWAY_RELAY_URL: connector.url,
    GATEWAY_RELAY_ID: GATEWAY_ID,
    GATEWAY_RELAY_SECRET: secret,
    GATEWAY_RELAY_PLATFORMS: 'discord,telegram,slack',
    GATEWAY_RELAY_BOT_IDS: JSON.stringify(
      Object.fromEntries(Object.entries(BOT_IDS).map(([p, botId]) => [p, { botId }])),
    ),
    SIDECAR_API_TOKEN: token,
    SIDECAR_DATA_DIR: dataDir,
    SIDECAR_PLUGINS: join(repoRoot(), 'plugins.json'),
    SIDECAR_CONFIG: configPath,
    LOG_LEVEL: opts.logLevel ?? 'debug',
    ...(push ? { AGENT_URL: push.url } : {}),
  };
  const startSidecar = async (): Promise<void> => {
    const child: ChildProcess = spawn(process.execPath, [cliPath(), 'run'], {
      cwd: repoRoot(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new SidecarProcess(child);
    lifeFirstConn = connector.lastConnSeq + 1;
    lives.push(p);
    proc = p;
    bump('sidecarLives');
    void p.exited.then((exit) => {
      if (!expectedEnd.has(p)) {
        violations.push(`sidecar life ${lives.indexOf(p) + 1} exited on its own: ${describe(exit)}`);
      }
    });
    try {
      await p.waitReady(30_000);
    } catch (err) {
      violations.push(`sidecar life ${lives.indexOf(p) + 1} did not become ready: ${(err as Error).message}`);
    }
  };
  const stopSidecar = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    if (!p) return;
    proc = undefined;
    expectedEnd.set(p, signal);
    const exit = await p.kill(signal);
    if (signal === 'SIGKILL') markAtRisk(lifeFirstConn, connector.lastConnSeq);
    if (signal === 'SIGTERM' && !(exit.code === 0 && exit.signal === null)) {
      violations.push(
        `sidecar life ${lives.indexOf(p) + 1}: SIGTERM ended it with ${describe(exit)}, not exit 0`,
      );
    }
  };

  // ── events
  const events: SoakEvent[] = [];
  const chats = {
    discord: ['c-1', 'c-2', 'c-3'].flatMap((channel) =>
      ['u-1', 'u-2', 'u-3'].map((user) => ({ channel, user })),
    ),
    telegram: ['tg-1', 'tg-2', 'tg-3'],
    slack: ['C1', 'C2'].flatMap((channel) => ['U1', 'U2'].map((user) => ({ channel, user }))),
  };
  const discordOriginals: SoakEvent[] = [];
  // the user of each original message, so its edits land in the same session
  const edits = new Map<string, string>();
  let seq = 0;
  const emit = () => {
    const noise = rand();
    if (noise < 0.03) {
      // a live frame again, as a connector retrying a send might: deduped by the contract's key
      const again = events
        .filter((e) => !e.buffered && e.kind !== 'interrupt' && e.kind !== 'badframe')
        .slice(-50);
      if (again.length > 0) {
        const ev = pick(again);
        if (connector.resendLive(ev.frame)) {
          ev.resent += 1;
          if (!ledger.seenSeqs.has(ev.seq)) ev.resentUnseen = true;
          bump('liveDuplicates');
        }
        return;
      }
    } else if (noise < 0.05) {
      // junk on the wire: never ends the read loop
      connector.sendLine(pick(['not json\n', '[1,2]\n', '{"type":"inbound"}\n', '{"no":"type"}\n', '\n\n']));
      bump('junkLines');
      return;
    }
    seq += 1;
    const n = seq;
    const marker = `soak-${n}`;
    const buffered = rand() < 0.4;
    const poisonDraw = opts.mode === 'push' && rand() < 0.02;
    const tag = poisonDraw ? ' #reject' : '';
    const r = rand();
    let kind: Kind;
    let frame: Record<string, unknown>;
    let chatId: string;
    let messageId: string | undefined;
    if (r < 0.35) {
      kind = 'discord';
      const chat = pick(chats.discord);
      messageId = `dm-${n}`;
      chatId = chat.channel;
      edits.set(messageId, chat.user);
      frame = discordChannelMessage(
        { channel: chat.channel, userId: chat.user, userName: `user ${chat.user}`, guild: GUILD },
        `${marker} hello${tag}`,
        messageId,
      );
    } else if (r < 0.45 && discordOriginals.length > 0) {
      kind = 'edit';
      const orig = pick(discordOriginals.slice(-30));
      const m = orig.messageId as string;
      const chat = chats.discord.find((c) => c.channel === orig.chatId) ?? {
        channel: orig.chatId,
        user: 'u-1',
      };
      messageId = m;
      chatId = orig.chatId;
      const f = discordChannelMessage(
        { channel: chat.channel, userId: edits.get(m) ?? chat.user, userName: 'editor', guild: GUILD },
        `${marker} edit of soak-${orig.seq}${tag}`,
        m,
      );
      const event = f.event as { source: Record<string, unknown> };
      event.source.message_is_edit = true;
      frame = f;
    } else if (r < 0.6) {
      kind = 'slash';
      const chat = pick(chats.discord);
      chatId = chat.channel;
      const itok = `itok-${randomBytes(16).toString('hex')}`;
      interactionTokens.push(itok);
      const body = {
        id: `9${String(n).padStart(17, '0')}`,
        type: 2,
        ...(rand() < 0.5 ? { token: itok } : {}),
        application_id: BOT_IDS.discord,
        data: { name: 'ask', type: 1, options: [{ name: 'arg', type: 3, value: `${marker}${tag}` }] },
        guild_id: GUILD,
        channel_id: chat.channel,
        member: { user: { id: chat.user, username: `u${chat.user}` }, nick: null },
      };
      frame = {
        type: 'passthrough_forward',
        forward: forwardFrame('discord', BOT_IDS.discord, 'application/json', body),
      };
    } else if (r < 0.63) {
      // a /stop for one session: committed at once, delivered ahead of the session's queue
      kind = 'interrupt';
      const chat = pick(chats.discord);
      chatId = `soak-${n}`;
      frame = {
        type: 'interrupt_inbound',
        session_key: `agent:main:discord:group:${chat.channel}:${chat.user}`,
        chat_id: chatId,
      };
    } else if (r < 0.645) {
      // a buffered frame that fails its schema: dead-lettered and acked, never delivered
      kind = 'badframe';
      chatId = 'c-1';
      frame = { type: 'inbound', event: { text: `${marker} broken`, source: 'not an object' } };
    } else if (r < 0.8) {
      kind = 'telegram';
      chatId = pick(chats.telegram);
      messageId = `tm-${n}`;
      frame = {
        type: 'inbound',
        event: {
          text: `${marker} hi${tag}`,
          message_id: messageId,
          source: { platform: 'telegram', chat_id: chatId, chat_type: 'dm', user_id: `tu-${chatId}` },
        },
      };
    } else {
      kind = 'slack';
      const chat = pick(chats.slack);
      chatId = chat.channel;
      messageId = `${1_700_000_000 + n}.000100`;
      frame = {
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
    }
    // an interrupt is never buffered (the contract gives interrupt_inbound no bufferId): with no
    // connection a connector has no instance to route it to, and it is not sent at all
    const out =
      kind === 'interrupt'
        ? connector.resendLive(frame)
          ? { connSeq: connector.currentConnSeq }
          : {}
        : connector.deliver(frame, kind === 'badframe' ? true : buffered);
    const ev: SoakEvent = {
      seq: n,
      kind,
      buffered: out.bufferId !== undefined,
      poison: poisonDraw && kind !== 'interrupt' && kind !== 'badframe',
      sentAt: Date.now(),
      connSeq: out.connSeq,
      bufferId: out.bufferId,
      resent: 0,
      resentUnseen: false,
      atRisk: out.bufferId === undefined && out.connSeq === undefined, // not sent at all
      chatId,
      messageId,
      frame,
    };
    events.push(ev);
    bump(`events.${kind}`);
    if (kind === 'discord' && !ev.poison) discordOriginals.push(ev);
  };
  /**
   * An abrupt cut of the connections with sequence in [fromSeq, upTo]: a live frame written to one
   * of them that is neither committed (in the store) nor seen by the agent was lost with it, which
   * the contract allows (live frames are never redelivered). Read once ingest has settled.
   */
  const markAtRisk = (fromSeq: number, upTo: number) => {
    const known = committedSeqs();
    for (const s of ledger.received) if (s.seq !== undefined) known.add(s.seq);
    for (const ev of events) {
      if (ev.buffered || ev.connSeq === undefined || ev.connSeq < fromSeq || ev.connSeq > upTo) continue;
      if (!known.has(ev.seq)) ev.atRisk = true;
    }
  };
  /** The soak markers of every event in the sidecar's store (pending, delivered, dead-lettered). */
  const committedSeqs = (): Set<number> => {
    const out = new Set<number>();
    let db: Database.Database | undefined;
    try {
      db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
      const texts = [
        ...db.prepare('SELECT envelope AS t FROM inbox_envelopes').all(),
        ...db.prepare('SELECT payload AS t FROM inbox_dead_letters').all(),
      ] as { t: string }[];
      for (const { t } of texts)
        for (const m of t.matchAll(/(?<!edit of )soak-(\d+)\b/g)) out.add(Number(m[1]));
    } catch (err) {
      notes.push(`could not read the store: ${(err as Error).message}`);
    } finally {
      db?.close();
    }
    return out;
  };
  let lifeFirstConn = 1;
  /** Every dead letter in the store. */
  const deadLetterRows = (): { id: string; code: string; payload: string }[] => {
    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT id, code, payload FROM inbox_dead_letters').all() as {
        id: string;
        code: string;
        payload: string;
      }[];
    } finally {
      db.close();
    }
  };

  // ── dead letters the agent forgives: replayed through the API, or by the CLI while the sidecar is down
  /** delivery id ⇒ soak seq of every dead letter listed so far. */
  const knownDead = new Map<string, number>();
  /** seq ⇒ the replay was confirmed (202, or the CLI queued it). */
  const replayed = new Map<number, boolean>();
  const seqOfDelivery = (id: string) => ledger.received.find((x) => x.id === id)?.seq;
  const replayDeadLetters = async () => {
    const b = base();
    if (!b || !push) return;
    const auth = { authorization: `Bearer ${token}` };
    try {
      const res = await fetch(`${b}/v1/dead-letters?limit=500`, { headers: auth });
      const rows =
        ((await res.json()) as { dead_letters?: { id: string; kind: string }[] }).dead_letters ?? [];
      for (const row of rows) {
        const s = row.kind === 'delivery' ? seqOfDelivery(row.id) : undefined;
        if (s === undefined) continue;
        knownDead.set(row.id, s);
        if (replayed.has(s) || rand() < 0.5) continue;
        push.forgiven.add(s);
        replayed.set(s, false);
        const r = await fetch(`${b}/v1/dead-letters/${row.id}/replay`, { method: 'POST', headers: auth });
        await r.body?.cancel();
        if (r.status === 202) replayed.set(s, true);
        else violations.push(`replay of dead letter ${row.id} (soak-${s}) answered ${r.status}`);
        bump('replays.api');
      }
    } catch {
      // the sidecar went away mid-call: the replay may or may not have happened
    }
  };
  const replayOffline = async () => {
    const candidates = [...knownDead].filter(([, s]) => !replayed.has(s));
    if (!push || candidates.length === 0) return;
    const [id, s] = pick(candidates);
    push.forgiven.add(s);
    replayed.set(s, false);
    const out = await runCli(['dead-letters', 'replay', id], { ...env, SIDECAR_LISTEN: '127.0.0.1:1' });
    bump('replays.offline');
    if (out.code === 0 && out.stdout.includes('queued')) replayed.set(s, true);
    else
      violations.push(
        `offline replay of ${id} (soak-${s}) failed: exit ${out.code} ${out.stdout}${out.stderr}`.slice(
          0,
          400,
        ),
      );
  };

  /** How long a fault lasts: `ms` scaled by `faultScale`; `pause`: random up to that. */
  const scaled = (ms: number) => Math.floor((opts.faultScale ?? 1) * ms);
  const pause = (ms: number) => scaled(rand() * ms);

  let last4401 = 0;

  // ── faults
  const FAULTS = [
    'connector-restart',
    'connector-drop',
    'connector-terminate',
    'connector-4401-expired',
    'connector-4401-other',
    'connector-unsolicited-idle-ack',
    'agent-restart',
    'agent-flaky',
    'sidecar-sigterm',
    'sidecar-sigkill',
    ...(opts.mode === 'push' ? ['replay-dead-letters'] : []),
    ...(opts.mode === 'pull' ? ['agent-stream-drop'] : []),
  ] as const;
  const fault = async (name: (typeof FAULTS)[number]) => {
    faults.push(`${since()} ${name}`);
    bump(`faults.${name}`);
    say(`${since()} ms: ${name}`);
    switch (name) {
      case 'connector-restart': {
        const from = connector.currentConnSeq || connector.lastConnSeq;
        const upTo = connector.lastConnSeq;
        await connector.down();
        await sleep(pause(1_500));
        await connector.up();
        await sleep(1_000);
        markAtRisk(from, upTo);
        break;
      }
      case 'connector-drop': {
        const code = pick([1000, 1001, 1011, 1012, 1013, 4000]);
        connector.drop(code, `soak drop ${code}`);
        break;
      }
      case 'connector-terminate': {
        const from = connector.currentConnSeq || connector.lastConnSeq;
        const upTo = connector.lastConnSeq;
        connector.terminate();
        await sleep(1_000);
        markAtRisk(from, upTo);
        break;
      }
      case 'connector-4401-other':
        // one non-expired 4401 after a handshake: one immediate re-dial with a fresh token (a second
        // within relay.stableAfterMs would be revocation, so they are kept apart)
        // (the connection up past stableAfterMs has reset the strike of the one before)
        if (Date.now() - last4401 > 6_000 && connector.currentConnAgeMs > 3_000) {
          last4401 = Date.now();
          connector.drop(4401, 'invalid');
        }
        break;
      case 'connector-4401-expired':
        connector.drop(4401, 'expired');
        break;
      case 'connector-unsolicited-idle-ack':
        connector.sendRaw({ type: 'going_idle_ack' });
        break;
      case 'agent-restart': {
        const ms = 300 + Math.floor(rand() * 2_500);
        if (push) {
          await push.gate.down();
          await sleep(scaled(ms));
          await push.gate.up();
        } else await pull?.restart(scaled(ms));
        break;
      }
      case 'agent-flaky':
        if (push) {
          push.faults = { p5xx: 0.15, p429: 0.05, pHang: 0.04, pSlow: 0.1, pRefuse: 0.06 };
          await sleep(scaled(1_000 + rand() * 3_000));
          push.faults = { p5xx: 0.03, p429: 0.01, pHang: 0.005, pSlow: 0.05, pRefuse: 0.01 };
        }
        break;
      case 'replay-dead-letters':
        await replayDeadLetters();
        break;
      case 'agent-stream-drop':
        pull?.dropStream();
        break;
      case 'sidecar-sigterm':
      case 'sidecar-sigkill': {
        await stopSidecar(name === 'sidecar-sigterm' ? 'SIGTERM' : 'SIGKILL');
        if (push && rand() < 0.5) await replayOffline();
        await sleep(pause(1_000));
        await startSidecar();
        break;
      }
    }
  };

  try {
    await startSidecar();
    pull?.start();
    if (pull) pull.chaos = true;
    if (push) push.faults = { p5xx: 0.03, p429: 0.01, pHang: 0.005, pSlow: 0.05, pRefuse: 0.01 };
    const eventGap = opts.eventGapMs ?? 25;
    const faultGap = opts.faultGapMs ?? 1_500;
    const endAt = Date.now() + opts.durationMs;
    const toCover = opts.cover ? [...FAULTS].sort(() => rand() - 0.5) : [];
    let faulting = true;
    const emitter = (async () => {
      while (faulting) {
        emit();
        await sleep(Math.floor(rand() * 2 * eventGap));
      }
    })();
    // push-mode agents also post actions of their own, beside the ones in their answers
    const actor = (async () => {
      while (faulting) {
        await sleep(150 + Math.floor(rand() * 200));
        const b = base();
        const last = ledger.accepted.at(-1);
        if (push && b && last) void postAction(b, last);
      }
    })();
    while (Date.now() < endAt || toCover.length > 0) {
      await sleep(Math.floor(faultGap / 2 + rand() * faultGap));
      if (Date.now() >= endAt && toCover.length === 0) break;
      await fault(toCover.shift() ?? pick(FAULTS));
    }
    faulting = false;
    await emitter;
    await actor;

    // ── drain: faults off, every part up
    chaos = false;
    if (push) {
      push.faults = undefined;
      await push.gate.up();
    }
    // a delivery the pull agent left unacked holds its session until the stream reconnects
    if (pull) {
      pull.chaos = false;
      pull.dropStream();
    }
    if (!connector.running) await connector.up();
    if (!proc) await startSidecar();
    say(`${since()} ms: draining`);
    const mustArrive = () =>
      events.filter((e) => (!e.poison || replayed.get(e.seq) === true) && !e.atRisk && e.kind !== 'badframe');
    const acceptedSeqs = () => new Set(ledger.accepted.map((s) => s.seq));
    const drained = async () => {
      if (connector.pendingIds().length > 0) return false;
      const acc = acceptedSeqs();
      if (!mustArrive().every((e) => acc.has(e.seq))) return false;
      const b = base();
      if (!b) return false;
      try {
        const res = await fetch(`${b}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
        const status = (await res.json()) as { inbox?: { pending?: number } };
        return status.inbox?.pending === 0;
      } catch {
        return false;
      }
    };
    const drainUntil = Date.now() + (opts.drainMs ?? 60_000);
    while (!(await drained()) && Date.now() < drainUntil) await sleep(100);
    await sleep(300); // late duplicates, if any, have a moment to show up
    await checkInvariants();
  } catch (err) {
    violations.push(`the soak itself failed: ${(err as Error).stack ?? err}`);
  } finally {
    chaos = false;
    await pull?.stop();
    if (proc) await stopSidecar('SIGTERM').catch(() => undefined);
    await push?.close();
    await connector.close();
    checkLogs();
    if (opts.logsDir) {
      mkdirSync(opts.logsDir, { recursive: true });
      for (const [i, life] of lives.entries()) {
        writeFileSync(join(opts.logsDir, `life-${i + 1}.log`), life.text());
      }
      writeFileSync(join(opts.logsDir, 'faults.txt'), `${faults.join('\n')}\n`);
      const accIndex = (id: string) => ledger.acceptedIds.get(id);
      writeFileSync(
        join(opts.logsDir, 'agent.jsonl'),
        ledger.received.map((x, i) => JSON.stringify({ i, ...x, accepted: accIndex(x.id) })).join('\n'),
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }

  async function checkInvariants(): Promise<void> {
    bump('eventsSent', events.length);
    bump('eventsBuffered', events.filter((e) => e.buffered).length);
    bump('eventsAtRisk', events.filter((e) => e.atRisk).length);
    bump('poison', events.filter((e) => e.poison).length);
    bump('agentRequests', ledger.received.length);
    bump('agentAccepted', ledger.accepted.length);
    bump('resentAfterAccept', ledger.resentAfterAccept);
    // 1. buffered: the connector's buffer is empty (every buffered frame acked)
    const pending = connector.pendingIds();
    const byBuffer = new Map(events.map((e) => [e.bufferId, e]));
    if (pending.length > 0) {
      const what = pending
        .slice(0, 10)
        .map((id) => `${id} (soak-${byBuffer.get(id)?.seq} ${byBuffer.get(id)?.kind})`);
      violations.push(`buffered frames never acked: ${what.join(', ')}`);
    }
    // 2. exactly once: one delivery id per event; accepted unless poison (or lost at risk)
    const idsBySeq = new Map<number, Set<string>>();
    for (const s of ledger.received) {
      if (s.seq === undefined) continue;
      const ids = idsBySeq.get(s.seq) ?? new Set<string>();
      idsBySeq.set(s.seq, ids);
      ids.add(s.id);
    }
    const acc = new Set(ledger.accepted.map((s) => s.seq));
    let lostAtRisk = 0;
    for (const ev of events) {
      const ids = idsBySeq.get(ev.seq);
      if (ids && ids.size > 1) {
        violations.push(
          `soak-${ev.seq} (${ev.kind}, ${ev.buffered ? `buffered ${ev.bufferId}` : 'live'}) delivered under ${ids.size} ids: ${[...ids].join(' ')}`,
        );
      }
      if (ev.kind === 'badframe') {
        if (ids) violations.push(`soak-${ev.seq}: a frame that fails its schema reached the agent`);
        continue;
      }
      if (ev.poison) continue;
      if (!acc.has(ev.seq)) {
        if (ev.atRisk) lostAtRisk += 1;
        else
          violations.push(
            `soak-${ev.seq} (${ev.kind}, ${ev.buffered ? `buffered ${ev.bufferId}` : `live on conn ${ev.connSeq}`}, sent at ${ev.sentAt - t0} ms) never accepted by the agent${ids ? ` (seen ${ids.size}×)` : ' (never seen)'}`,
          );
      }
    }
    bump('lostAtRisk', lostAtRisk);
    const unknown = ledger.received.filter((s) => s.type === 'message' && s.seq === undefined).length;
    if (unknown > 0) violations.push(`${unknown} deliveries without a soak marker`);
    // 3. per-session order (docs/decisions.md: per-session FIFO of commits in arrival order)
    const lastBySession = new Map<string, number>();
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    // push: the order of the agent's first 2xx (a session's requests are sequential); pull: the
    // order deliveries first came down the stream (one unacked per session: the next is sent
    // only after the ack, but the 204s of two acks may resolve in either order at the agent)
    const firstSeen = new Set<number>();
    const orderOf =
      opts.mode === 'push'
        ? ledger.accepted
        : ledger.received.filter((s) => s.seq !== undefined && !firstSeen.has(s.seq) && firstSeen.add(s.seq));
    for (const s of orderOf) {
      if (s.seq === undefined || !s.session || s.type !== 'message') continue;
      // a dead letter replayed is queued behind what its session has now (decisions.md); a live
      // frame sent again lands where its copy does when the first was lost at a cut
      const me = bySeq.get(s.seq);
      if (me?.poison || me?.resentUnseen) continue;
      const prev = lastBySession.get(s.session);
      if (prev !== undefined && s.seq < prev) {
        const ev = bySeq.get(s.seq);
        const pv = bySeq.get(prev);
        const how = (e: SoakEvent | undefined) =>
          `${e?.kind} ${e?.buffered ? e.bufferId : `live on conn ${e?.connSeq}`}${e?.resent ? `, sent ${e.resent + 1}×` : ''}${e?.atRisk ? ', at risk' : ''}, at ${(e?.sentAt ?? t0) - t0} ms`;
        violations.push(
          `order: in ${s.session} soak-${s.seq} (${how(ev)}) ${opts.mode === 'push' ? 'accepted' : 'sent'} after soak-${prev} (${how(pv)})`,
        );
      }
      lastBySession.set(s.session, Math.max(prev ?? 0, s.seq));
    }
    // 4. outbound actions: none applied twice; a success reached the connector exactly once
    const outboundCount = new Map<string, number>();
    for (const o of connector.outbounds) {
      if (o.content?.startsWith('act-'))
        outboundCount.set(o.content, (outboundCount.get(o.content) ?? 0) + 1);
    }
    bump('outboundFrames', connector.outbounds.length);
    bump('actionsPosted', actionResults.size);
    for (const [content, n] of outboundCount)
      if (n > 1) violations.push(`action ${content} reached the connector ${n}×`);
    for (const [content, r] of actionResults) {
      if (r.status >= 400 && r.status !== 503) {
        violations.push(`action ${content} (${r.op} for soak-${r.seq}) refused: ${r.status} ${r.code ?? ''}`);
      }
      if (r.success === true && outboundCount.get(content) !== 1) {
        violations.push(
          `action ${content} answered success but reached the connector ${outboundCount.get(content) ?? 0}×`,
        );
      }
    }
    // 5. dead letters: every poison event ends dead-lettered, nothing else does
    const b = base();
    if (b) {
      // every dead letter, read from the store (the API lists 500 at most); what it shows of one
      // is what the API shows (`GET /v1/dead-letters/{id}` is this row), so the check stands for both
      const rows = deadLetterRows();
      bump('deadLetters', rows.length);
      const deadSeqs: number[] = [];
      const seqOfId = new Map(ledger.received.map((x) => [x.id, x.seq]));
      for (const row of rows) {
        // a delivery dead letter names its delivery (the id the agent saw); a frame one holds the frame
        const one = row.payload;
        const fromFrame = [...one.matchAll(/(?<!edit of )soak-(\d+)\b/g)].map((m) => Number(m[1]));
        const seqs = new Set(fromFrame);
        const viaId = seqOfId.get(row.id);
        if (viaId !== undefined) seqs.add(viaId);
        // a frame that failed its schema is kept without its body: its bufferId names it
        const buffer = /"bufferId":"([^"]+)"/.exec(one)?.[1];
        const viaBuffer = buffer === undefined ? undefined : byBuffer.get(buffer)?.seq;
        if (viaBuffer !== undefined) seqs.add(viaBuffer);
        if (seqs.size === 0)
          violations.push(`dead letter ${row.id} (${row.code}) is no soak event: ${one.slice(0, 300)}`);
        deadSeqs.push(...seqs);
      }
      const deadCount = new Map<number, number>();
      for (const s of deadSeqs) deadCount.set(s, (deadCount.get(s) ?? 0) + 1);
      for (const ev of events.filter((e) => e.poison)) {
        const n = deadCount.get(ev.seq) ?? 0;
        const r = replayed.get(ev.seq);
        if (n > 1) violations.push(`poison soak-${ev.seq} (${ev.kind}) is ${n} dead letters`);
        if (r === true) {
          // replayed and forgiven: delivered again under its id and accepted, no longer a dead letter
          if (n > 0) violations.push(`soak-${ev.seq}: its dead letter was replayed but is still there`);
          if (!acc.has(ev.seq))
            violations.push(`soak-${ev.seq}: its dead letter was replayed but never accepted`);
        } else if (r === false) {
          if (n === 0 && !acc.has(ev.seq))
            violations.push(`soak-${ev.seq}: neither a dead letter nor accepted after a replay attempt`);
        } else {
          if (n === 0 && !ev.atRisk)
            violations.push(`poison soak-${ev.seq} (${ev.kind}) is not a dead letter`);
          if (acc.has(ev.seq)) violations.push(`poison soak-${ev.seq} accepted although never forgiven`);
        }
      }
      for (const ev of events.filter((e) => e.kind === 'badframe')) {
        const n = deadCount.get(ev.seq) ?? 0;
        if (n !== 1)
          violations.push(`soak-${ev.seq}: a buffered frame failing its schema is ${n} dead letters, not 1`);
      }
      for (const s of deadCount.keys()) {
        if (!bySeq.get(s)?.poison && bySeq.get(s)?.kind !== 'badframe')
          violations.push(`soak-${s} dead-lettered but the agent never rejected it`);
      }
    }
    if (b) {
      // the inbox depth metric of this life agrees with /v1/status
      const status = (await (
        await fetch(`${b}/v1/status`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as {
        inbox?: { pending?: number; dead?: number };
      };
      const storeDead = deadLetterRows().length;
      if (status.inbox?.dead !== storeDead) {
        violations.push(
          `/v1/status inbox.dead ${status.inbox?.dead} but the store holds ${storeDead} dead letters`,
        );
      }
      // every code the last life logged is counted in relay_errors_total at least as often
      const life = lives.at(-1);
      const logged = new Map<string, number>();
      for (const line of life?.lines ?? []) {
        if (typeof line.code === 'string' && Number(line.level) >= 40)
          logged.set(line.code, (logged.get(line.code) ?? 0) + 1);
      }
      const metrics = await (await fetch(`${b}/metrics`)).text();
      for (const [code, n] of logged) {
        const counted = new RegExp(`^relay_errors_total\\{code="${code}"\\} (\\d+)`, 'm').exec(metrics)?.[1];
        if (Number(counted ?? 0) < n)
          violations.push(
            `metrics: ${code} logged ${n}× in the last life, relay_errors_total says ${counted ?? 'nothing'}`,
          );
      }
      const depth = /^relay_inbox_depth(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1];
      if (depth !== undefined && Number(depth) !== (status.inbox?.pending ?? -1)) {
        violations.push(
          `metrics: relay_inbox_depth ${depth} but /v1/status inbox.pending ${status.inbox?.pending}`,
        );
      }
    }
  }

  function checkLogs(): void {
    const documented = new Set(
      readFileSync(join(repoRoot(), 'docs', 'errors.md'), 'utf8').match(/CORE_ERR_[A-Z_]+/g) ?? [],
    );
    const gatewayPrefix = Buffer.from(`${GATEWAY_ID}:`)
      .toString('base64url')
      .slice(0, Math.floor((GATEWAY_ID.length + 1) / 3) * 4);
    const secrets: [string, string][] = [
      ['relay secret', secret],
      ['api token', token],
      ['upgrade token', gatewayPrefix],
      ...interactionTokens.map((t): [string, string] => ['interaction token', t]),
    ];
    let lines = 0;
    lives.forEach((life, i) => {
      const text = life.text();
      lines += life.lines.length;
      for (const [what, value] of secrets) {
        if (text.includes(value)) violations.push(`log of life ${i + 1} contains the ${what}`);
      }
      const codes = new Map<string, number>();
      for (const line of life.lines) {
        const code = typeof line.code === 'string' ? line.code : undefined;
        if (code) codes.set(code, (codes.get(code) ?? 0) + 1);
        if (code && !documented.has(code))
          violations.push(`life ${i + 1} logged ${code}, not in docs/errors.md`);
        if (code === 'CORE_ERR_DELIVERY_ACTION_FAILED' && /\b4\d\d\b/.test(String(line.error))) {
          violations.push(
            `life ${i + 1}: a response action was refused: ${String(line.error).slice(0, 200)}`,
          );
        }
        if (code && BUG_CODES.has(code))
          violations.push(`life ${i + 1}: ${JSON.stringify(line).slice(0, 400)}`);
        if (Number(line.level) >= 60)
          violations.push(`life ${i + 1} logged fatal: ${String(line.msg).slice(0, 200)}`);
        if (Number(line.level) >= 50)
          notes.push(`life ${i + 1} error: ${JSON.stringify(line).slice(0, 600)}`);
      }
      for (const [code, n] of codes) bump(`codes.${code}`, n);
    });
    bump('logLines', lines);
  }

  return {
    seed: opts.seed,
    mode: opts.mode,
    passed: violations.length === 0,
    violations,
    stats,
    notes,
    faults,
  };
}

/** `over` deep-merged onto `base` (plain objects merge, anything else replaces). */
function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const plain = (x: unknown): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = plain(b) && plain(v) ? mergeDeep(b, v) : v;
  }
  return out;
}

/** Run the CLI with `args` and `env`; resolves with its exit code and output. */
function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...args], {
      cwd: repoRoot(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function describe(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit ${exit.code}`;
}

/** A report as text. */
export function formatReport(r: SoakReport): string {
  const out = [
    `soak seed ${r.seed} mode ${r.mode}: ${r.passed ? 'PASS' : `FAIL (${r.violations.length} violations)`}`,
  ];
  const keys = Object.keys(r.stats).sort();
  out.push(`  ${keys.map((k) => `${k}=${r.stats[k]}`).join(' ')}`);
  for (const v of r.violations.slice(0, 50)) out.push(`  VIOLATION ${v}`);
  if (r.violations.length > 50) out.push(`  … ${r.violations.length - 50} more`);
  for (const n of [...new Set(r.notes)].slice(0, 20)) out.push(`  note ${n}`);
  return out.join('\n');
}
