/**
 * Item 1 — inbound ceiling: `inbound` frames per second from the connector to the agent, live and
 * buffered (commit + `inbound_ack`), through the sidecar in its current mode, each run next to the
 * bare reader (reads and `JSON.parse`s the same stream) as the machine's limit. One person writes
 * each chat's messages; a third pair of flows, live, has {@link GROUP_SPEAKERS} people take turns
 * in every chat (a busy group chat: scope-reattacher rewrites a chat's memory at every message).
 */
import type { FlowResult } from './measure.js';
import { throughBare, throughSidecar } from './measure.js';
import type { Mode, Rig } from './rig.js';
import type { Sizes } from './sizes.js';

/** Members taking turns in each chat of the group-chat flows. */
export const GROUP_SPEAKERS = 3;

/** One run's six numbers. */
export interface InboundRun {
  readonly bareLive: FlowResult;
  readonly sidecarLive: FlowResult;
  readonly bareBuffered: FlowResult;
  readonly sidecarBuffered: FlowResult;
  /** Live frames of busy group chats ({@link GROUP_SPEAKERS} speakers taking turns). */
  readonly bareGroup: FlowResult;
  readonly sidecarGroup: FlowResult;
}

/** The flows of a run, as the report names them: [key suffix, label]. */
export const INBOUND_VARIANTS = [
  ['Live', 'live'],
  ['Buffered', 'buffered'],
  ['Group', 'live, busy group chats'],
] as const;

/** Item 1 for one mode. */
export interface InboundResult {
  readonly mode: Mode;
  readonly n: number;
  readonly runs: InboundRun[];
}

/** Warm both paths up (JIT, SQLite pages, sockets) before anything is measured. */
export async function warmUp(rig: Rig, sizes: Sizes): Promise<void> {
  const flow = { kind: 'inbound' as const, n: sizes.warmN, sessions: sizes.sessions, window: sizes.window };
  const steps = [
    await throughBare(rig, { ...flow, buffered: false, maxMs: 60_000 }, false),
    await throughSidecar(rig, { ...flow, buffered: false, maxMs: 120_000 }, false),
    await throughSidecar(rig, { ...flow, buffered: true, maxMs: 120_000 }, false),
  ];
  for (const s of steps)
    if (s.received < s.sent) log(`warm-up: ${s.sent - s.received} events missing: ${s.diag ?? ''}`);
}

/** Measure item 1 with the rig's current sidecar (mode `mode`). */
export async function measureInbound(rig: Rig, mode: Mode, sizes: Sizes): Promise<InboundResult> {
  const base = {
    kind: 'inbound' as const,
    n: sizes.inboundN,
    sessions: sizes.sessions,
    window: sizes.window,
    maxMs: Math.max(30_000, sizes.inboundN), // ≥ 1 000 events/s or it is reported as a timeout
  };
  const runs: InboundRun[] = [];
  for (let i = 0; i < sizes.runs; i++) {
    const bareLive = await throughBare(rig, { ...base, buffered: false }, false);
    const sidecarLive = await throughSidecar(rig, { ...base, buffered: false }, false);
    const bareBuffered = await throughBare(rig, { ...base, buffered: true }, false);
    const sidecarBuffered = await throughSidecar(rig, { ...base, buffered: true }, false);
    const group = { ...base, buffered: false, speakers: GROUP_SPEAKERS };
    const bareGroup = await throughBare(rig, group, false);
    const sidecarGroup = await throughSidecar(rig, group, false);
    runs.push({ bareLive, sidecarLive, bareBuffered, sidecarBuffered, bareGroup, sidecarGroup });
    log(
      `inbound ${mode} run ${i + 1}/${sizes.runs}: live ${fmt(sidecarLive)} vs bare ${fmt(bareLive)}; buffered ${fmt(sidecarBuffered)} vs bare ${fmt(bareBuffered)}; group chats ${fmt(sidecarGroup)} vs bare ${fmt(bareGroup)}`,
    );
  }
  return { mode, n: sizes.inboundN, runs };
}

function fmt(r: FlowResult): string {
  return `${Math.round(r.ratePerS)}/s${r.received < r.sent ? ` (${r.sent - r.received} missing)` : ''}`;
}

const started = Date.now();

/** Progress on stderr, with seconds since start (the report goes to stdout and files). */
export function log(line: string): void {
  process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
}
