/**
 * `npm run bench`: drive the real sidecar process (the built CLI) from a loopback connector
 * process and a loopback agent, measure the six items of issue 6 next to their baselines, print
 * the report and write it (JSON Lines + markdown) to `bench/results/`. Exit 0 when every scenario ran
 * (targets missed are reported, not failures); 1 when a scenario failed; 2 on a usage error.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchOptions, parseBenchArgs, type Scenario, USAGE } from './cli-args.js';
import { machineInfo } from './lib/machine.js';
import { repoRoot } from './lib/paths.js';
import { load1 } from './lib/proc-stats.js';
import { summariseProfile } from './report/cpu-profile.js';
import { renderMarkdown } from './report/markdown.js';
import type { BenchResults } from './report/results.js';
import { log, measureInbound, warmUp } from './scenarios/inbound.js';
import { measureLatency } from './scenarios/latency.js';
import { measureMemory } from './scenarios/memory.js';
import { measureOutbound } from './scenarios/outbound.js';
import { measurePassthrough } from './scenarios/passthrough.js';
import { measureReconnect } from './scenarios/reconnect.js';
import { type Mode, Rig } from './scenarios/rig.js';

/** Run the selected scenarios; never throws (failures are recorded in the results). */
export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    sizes: opts.sizes,
    machine: machineInfo(),
    ...(Object.keys(opts.sidecarEnv).length > 0 || opts.sidecarConfig
      ? {
          sidecarSettings: {
            env: { ...opts.sidecarEnv },
            ...(opts.sidecarConfig ? { config: { ...opts.sidecarConfig } } : {}),
          },
        }
      : {}),
    load: [load1()],
    inbound: [],
    latency: [],
    problems: {},
    failures: [],
  };
  const loadTimer = setInterval(() => results.load.push(load1()), 5_000);
  const rig = await Rig.start({
    ...(opts.profileDir ? { cpuProfDir: opts.profileDir } : {}),
    sidecarEnv: opts.sidecarEnv,
    ...(opts.sidecarConfig ? { sidecarConfig: opts.sidecarConfig } : {}),
  });
  const attempt = async (scenario: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      log(`${scenario} failed: ${(err as Error).stack ?? err}`);
      results.failures.push({ scenario, error: (err as Error).message ?? String(err) });
    }
  };
  const want = (s: Scenario) => opts.only.has(s);
  /** A fresh sidecar in `mode`, warmed up; false when it could not start (recorded). */
  const startWarm = async (mode: Mode): Promise<boolean> => {
    await attempt(`start ${mode}`, async () => {
      await rig.startSidecar(mode);
      await warmUp(rig, opts.sizes);
    });
    return rig.sidecar !== undefined;
  };
  try {
    // inbound and latency of every mode first, each on a fresh sidecar, so that neither follows
    // the outbound scenario's thousands of connections; passthrough and outbound then share one
    for (const mode of opts.modes) {
      if (!want('inbound') && !want('latency')) break;
      if (!(await startWarm(mode))) continue;
      if (want('inbound')) {
        await attempt(`inbound ${mode}`, async () => {
          results.inbound.push(await measureInbound(rig, mode, opts.sizes));
        });
      }
      if (want('latency')) {
        await attempt(`latency ${mode}`, async () => {
          results.latency.push(await measureLatency(rig, mode, opts.sizes));
        });
      }
      await rig.stopSidecar();
    }
    const sharedMode = opts.modes[0] ?? 'push';
    if ((want('passthrough') || want('outbound')) && (await startWarm(sharedMode))) {
      if (want('passthrough')) {
        await attempt('passthrough', async () => {
          results.passthrough = await measurePassthrough(rig, opts.sizes);
        });
      }
      if (want('outbound')) {
        await attempt('outbound', async () => {
          results.outbound = await measureOutbound(rig, opts.sizes);
        });
      }
      await rig.stopSidecar();
    }
    if (want('memory')) {
      await attempt('memory', async () => {
        results.memory = await measureMemory(rig, opts.sizes);
      });
    }
    if (want('reconnect')) {
      await attempt('reconnect', async () => {
        results.reconnect = await measureReconnect(rig, opts.sizes);
      });
    }
  } finally {
    clearInterval(loadTimer);
    await rig.close();
    // every sidecar has been stopped by now, so the rig holds all their warnings
    for (const [k, n] of rig.problems) results.problems[k] = n;
  }
  if (opts.profileDir) {
    results.profiles = readdirSync(opts.profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => summariseProfile(join(opts.profileDir!, f)));
  }
  results.finishedAt = new Date().toISOString();
  return results;
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2), join(repoRoot(), 'bench', 'results'));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  log(`${opts.sizes.name} run: ${[...opts.only].join(', ')}; modes ${opts.modes.join(', ')}`);
  const results = await runBench(opts);
  const markdown = renderMarkdown(results);
  mkdirSync(opts.outDir, { recursive: true });
  const stamp = results.startedAt.replaceAll(':', '-').replace(/\..*$/, '');
  for (const name of [`bench-${opts.sizes.name}-${stamp}`, 'latest']) {
    // one JSON document on one line (JSON Lines): biome checks every *.json under bench/
    writeFileSync(join(opts.outDir, `${name}.jsonl`), `${JSON.stringify(results)}\n`);
    writeFileSync(join(opts.outDir, `${name}.md`), markdown);
  }
  process.stdout.write(markdown);
  log(`results in ${join(opts.outDir, 'latest.md')} and latest.jsonl`);
  return results.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
