/**
 * Item 3b — what the worker pool adds: the same forwards converted by the real plugin host (real
 * piscina pool, the repository's plugins.json) and by the plugin's own `convert` called on the
 * main thread (decode + convert + the core's MessageEvent check — what the pool's worker does).
 * Both run in the harness process, one forward at a time (latency) and 64 at a time (throughput).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../core/config/load.js';
import { createLogger } from '../../core/log/logger.js';
import { Metrics } from '../../core/metrics/metrics.js';
import type { PluginDefinition } from '../../core/plugin-host/define-plugin.js';
import { PluginHost } from '../../core/plugin-host/plugin-host.js';
import {
  MessageEventSchema,
  type PassthroughForward,
  PassthroughForwardSchema,
} from '../../core/protocol/payloads.js';
import discordPlugin from '../../plugins/discord-interaction/index.js';
import twilioPlugin from '../../plugins/twilio/index.js';
import { frameLine } from '../connector/frame-lines.js';
import { nowUs } from '../lib/clock.js';
import { repoRoot } from '../lib/paths.js';
import { type Percentiles, percentiles } from '../lib/stats.js';

/** One platform's pool-vs-main figures. */
export interface PoolVsMain {
  readonly platform: 'discord' | 'twilio';
  /** One at a time, ms per conversion. */
  readonly poolLatency: Percentiles;
  readonly mainLatency: Percentiles;
  /** 64 in flight, conversions per second. */
  readonly poolPerS: number;
  readonly mainPerS: number;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const noStore = { get: () => undefined, set() {}, remember: () => false, delete() {} };

/** The forwards of `n` frames, parsed as the sidecar's edge schema would. */
function forwards(kind: 'discord' | 'twilio', n: number): PassthroughForward[] {
  return Array.from({ length: n }, (_, seq) => {
    const frame = JSON.parse(frameLine({ kind, tag: 999_999, seq, sendUs: 0, sessions: 64 })) as {
      forward: unknown;
    };
    return PassthroughForwardSchema.parse(frame.forward);
  });
}

/** Convert on the main thread exactly as a worker does (decode, convert, validate each event). */
function convertHere(def: PluginDefinition, forward: PassthroughForward): number {
  const body = Buffer.from(forward.bodyB64, 'base64');
  const ctx = { name: def.name, options: {}, store: noStore, log: quiet, identities: [] };
  const result = def.passthrough!.convert({ ...forward, body }, ctx) as { events: { event: unknown }[] };
  let ok = 0;
  for (const e of result.events) if (MessageEventSchema.safeParse(e.event).success) ok += 1;
  return ok;
}

/** Measure both platforms with `samples` conversions per measurement. */
export async function measurePoolVsMain(samples: number): Promise<PoolVsMain[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-bench-pool-'));
  const pluginsPath = join(repoRoot(), 'plugins.json');
  const config = validateConfig({ dataDir, pluginsPath, log: { level: 'warn' } });
  const host = await PluginHost.load({
    manifestPath: pluginsPath,
    config,
    log: createLogger({ level: 'warn' }),
    metrics: new Metrics(),
  });
  try {
    const out: PoolVsMain[] = [];
    for (const [platform, def] of [
      ['discord', discordPlugin],
      ['twilio', twilioPlugin],
    ] as const) {
      const input = forwards(platform, samples);
      const pool = async (f: PassthroughForward) => {
        const r = await host.convertForward(f);
        if (r.kind !== 'events') throw new Error(`pool conversion failed: ${JSON.stringify(r)}`);
      };
      const main = async (f: PassthroughForward) => {
        if (convertHere(def as PluginDefinition, f) !== 1) throw new Error('main-thread conversion failed');
      };
      await throughput(pool, input.slice(0, Math.min(500, samples)), 64); // warm-up
      await throughput(main, input.slice(0, Math.min(500, samples)), 64);
      out.push({
        platform,
        poolLatency: await oneByOne(pool, input),
        mainLatency: await oneByOne(main, input),
        poolPerS: await throughput(pool, input, 64),
        mainPerS: await throughput(main, input, 64),
      });
    }
    return out;
  } finally {
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function oneByOne(
  run: (f: PassthroughForward) => Promise<void>,
  input: PassthroughForward[],
): Promise<Percentiles> {
  const ms: number[] = [];
  for (const f of input) {
    const t0 = nowUs();
    await run(f);
    ms.push((nowUs() - t0) / 1000);
  }
  return percentiles(ms);
}

async function throughput(
  run: (f: PassthroughForward) => Promise<void>,
  input: PassthroughForward[],
  parallel: number,
): Promise<number> {
  let next = 0;
  const t0 = nowUs();
  const worker = async () => {
    while (next < input.length) await run(input[next++] as PassthroughForward);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return input.length / ((nowUs() - t0) / 1e6);
}
