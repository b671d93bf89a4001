/**
 * Item 5 — memory: resident set size (threads included, from /proc) of a fresh sidecar idle,
 * after a warm-up, sampled under a long run of events, after the run has drained and settled
 * (must be within 10 % of post-warm-up: no leak), and with N outbound calls held in flight by the
 * connector. The bare process (reader / bare relay) is measured the same way as the baseline.
 */
import { burst } from '../agent/http-load.js';
import type { Which } from '../connector/connector-proc.js';
import { pollUntil, sleep } from '../lib/clock.js';
import { rssMiB } from '../lib/proc-stats.js';
import { log } from './inbound.js';
import { throughBare, throughSidecar } from './measure.js';
import { SEND_ACTION } from './outbound.js';
import type { Rig } from './rig.js';
import type { Sizes } from './sizes.js';

/** Calls held in flight by the connector. */
export interface HeldCalls {
  /** Calls started at once. */
  readonly started: number;
  /** Calls that reached the connector and were held when RSS was sampled. */
  readonly held: number;
  /** RSS with them held, MiB. */
  readonly rss: number;
  /** Answers other than 200 + success, by status (0 = transport error). */
  readonly failed: Record<string, number>;
}

/** RSS figures, MiB. */
export interface MemoryResult {
  readonly totalEvents: number;
  /** Events of the long run that never reached the agent, and the sidecar's account of them. */
  readonly missing: number;
  readonly diag?: string;
  readonly sidecar: {
    readonly idle: number;
    readonly postWarmup: number;
    readonly loadMedian: number;
    readonly loadPeak: number;
    readonly afterRun: number;
    /** afterRun / postWarmup − 1. */
    readonly growth: number;
    readonly ratePerS: number;
    readonly inflight: HeldCalls;
    readonly afterInflight: number;
  };
  readonly bare: { readonly idle: number; readonly loadPeak: number; readonly inflight: HeldCalls };
  /** Every sample under load: [seconds since start, MiB]. */
  readonly samples: [number, number][];
}

/**
 * Sample `pid`'s RSS every `everyMs` until the returned stop function is called, and once more at
 * the stop: a run shorter than one interval (a smoke run) still has a sample under load.
 */
function sampler(pid: number, everyMs: number): { stop: () => [number, number][] } {
  const t0 = Date.now();
  const samples: [number, number][] = [];
  const sample = () => samples.push([(Date.now() - t0) / 1000, rssMiB(pid)]);
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return samples;
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * Start `n` calls at `url` while the connector `which` holds every result; once each call is
 * either held at the connector or already answered (refused), sample RSS, then release them all.
 */
export async function holdCalls(
  rig: Rig,
  which: Which,
  url: string,
  n: number,
  pid: number,
): Promise<HeldCalls> {
  await rig.connector.hold(which);
  const seen0 = await rig.connector.outboundSeen(which);
  const calls = burst(url, rig.apiToken, SEND_ACTION, n);
  let held = 0;
  await pollUntil(
    async () => {
      held = (await rig.connector.outboundSeen(which)) - seen0;
      return held + calls.answered() >= n ? true : undefined;
    },
    120_000,
    `${n} calls held or answered`,
    100,
  ).catch(() => undefined); // sampled anyway: `held` says how many were in flight
  const rss = rssMiB(pid);
  await rig.connector.release(which);
  const statuses = await Promise.race([calls.done, sleep(60_000).then(() => [] as number[])]);
  calls.agent.destroy();
  const failed: Record<string, number> = {};
  for (const s of statuses) if (s !== 200) failed[s] = (failed[s] ?? 0) + 1;
  return { started: n, held, rss, failed };
}

/** Measure item 5 on a fresh push-mode sidecar. */
export async function measureMemory(rig: Rig, sizes: Sizes): Promise<MemoryResult> {
  const sc = await rig.startSidecar('push');
  const settle = () => sleep(sizes.memSettleMs);
  await settle();
  const idle = sc.rss();
  const flow = { kind: 'inbound' as const, buffered: false, sessions: sizes.sessions, window: sizes.window };
  await throughSidecar(rig, { ...flow, n: sizes.memWarmN, maxMs: Math.max(60_000, sizes.memWarmN) }, false);
  await settle();
  const postWarmup = sc.rss();
  log(
    `memory: idle ${idle.toFixed(1)} MiB, post-warm-up ${postWarmup.toFixed(1)} MiB; sending ${sizes.memTotalN} events`,
  );
  const s = sampler(sc.pid, 500);
  const maxMs = Math.max(120_000, sizes.memTotalN * 2);
  const run = await throughSidecar(rig, { ...flow, n: sizes.memTotalN, maxMs }, false);
  const samples = s.stop();
  await settle();
  const afterRun = sc.rss();
  log(`memory: after ${run.received} events at ${Math.round(run.ratePerS)}/s: ${afterRun.toFixed(1)} MiB`);
  const inflight = await holdCalls(rig, 'main', `${sc.apiUrl}/v1/actions`, sizes.memInflight, sc.pid);
  await settle();
  const afterInflight = sc.rss();
  log(
    `memory: ${inflight.held} calls held ${inflight.rss.toFixed(1)} MiB (refused ${JSON.stringify(inflight.failed)}), after ${afterInflight.toFixed(1)} MiB`,
  );
  await rig.stopSidecar();

  const bare = await bareMemory(rig, sizes);
  const load = samples.map(([, mib]) => mib).filter(Number.isFinite);
  return {
    totalEvents: run.received,
    missing: run.sent - run.received,
    ...(run.diag ? { diag: run.diag } : {}),
    sidecar: {
      idle,
      postWarmup,
      loadMedian: median(load),
      loadPeak: Math.max(...load),
      afterRun,
      growth: afterRun / postWarmup - 1,
      ratePerS: run.ratePerS,
      inflight,
      afterInflight,
    },
    bare,
    samples,
  };
}

/** The bare process: idle, peak while reading the same number of events, and the bare relay holding calls. */
async function bareMemory(rig: Rig, sizes: Sizes): Promise<MemoryResult['bare']> {
  const pid = rig.bare.rpc.pid;
  const idle = rssMiB(pid);
  const s = sampler(pid, 200);
  const flow = { kind: 'inbound' as const, buffered: false, sessions: sizes.sessions, window: sizes.window };
  await throughBare(rig, { ...flow, n: sizes.memTotalN, maxMs: Math.max(120_000, sizes.memTotalN) }, false);
  const loadPeak = Math.max(
    ...s
      .stop()
      .map(([, m]) => m)
      .filter(Number.isFinite),
  );
  await rig.dropReader();
  const ports = await rig.bare.startApi(rig.bareArgs());
  const url = `http://127.0.0.1:${ports.relayPort}/v1/actions`;
  const inflight = await holdCalls(rig, 'base', url, sizes.memInflight, pid);
  return { idle, loadPeak, inflight };
}
