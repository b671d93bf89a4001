/** Command-line options of `npm run bench` (node dist/bench/run.js). */
import { parseArgs } from 'node:util';
import type { Mode } from './scenarios/rig.js';
import { FULL, QUICK, type Sizes, SMOKE } from './scenarios/sizes.js';

/** The items of issue 6, by name. */
export const SCENARIOS = ['inbound', 'latency', 'passthrough', 'outbound', 'memory', 'reconnect'] as const;
/** One item. */
export type Scenario = (typeof SCENARIOS)[number];

/** Parsed options. */
export interface BenchOptions {
  readonly sizes: Sizes;
  readonly only: ReadonlySet<Scenario>;
  readonly modes: readonly Mode[];
  /** Directory for the JSON and markdown results. */
  readonly outDir: string;
  /** Run sidecars under `--cpu-prof`, profiles here. */
  readonly profileDir?: string;
  /** Extra environment of every sidecar (`--sidecar-env K=V`, repeatable). */
  readonly sidecarEnv: Readonly<Record<string, string>>;
  /** Tunables merged into every sidecar's config file (`--sidecar-config JSON`). */
  readonly sidecarConfig?: Readonly<Record<string, unknown>>;
}

/** Usage text. */
export const USAGE = `usage: node dist/bench/run.js [--quick | --smoke] [--runs N] [--only ${SCENARIOS.join(',')}]
                             [--modes push,pull] [--out DIR] [--profile DIR] [--sidecar-env K=V]
                             [--sidecar-config JSON]
  --quick     short run (a few minutes, 3 runs per figure)
  --smoke     tiny counts, 1 run: checks every scenario works (the bench self-test)
  --runs N    runs per figure (default 5; medians and min/max over them)
  --only      comma list of items to run (default all)
  --modes     agent modes for items 1-2 (default push,pull)
  --out DIR   where results go (default bench/results)
  --profile   run the sidecars under --cpu-prof, profiles and a summary in DIR
  --sidecar-env K=V   extra environment for every sidecar (repeatable; experiments)
  --sidecar-config JSON  tunables for every sidecar's config file, e.g. '{"pool":{"maxThreads":1}}'`;

/** Parse `argv` (without node and the script); throws with a message on a bad option. */
export function parseBenchArgs(argv: readonly string[], defaultOut: string): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      runs: { type: 'string' },
      only: { type: 'string' },
      modes: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'string' },
      'sidecar-env': { type: 'string', multiple: true },
      'sidecar-config': { type: 'string' },
    },
    strict: true,
  });
  let sizes = values.smoke ? SMOKE : values.quick ? QUICK : FULL;
  if (values.runs !== undefined) {
    const runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('--runs must be an integer 1..50');
    sizes = { ...sizes, runs };
  }
  const only = new Set<Scenario>();
  for (const name of (values.only ?? SCENARIOS.join(',')).split(',').map((s) => s.trim())) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown item "${name}"`);
    only.add(name as Scenario);
  }
  const modes = (values.modes ?? 'push,pull').split(',').map((s) => s.trim());
  for (const m of modes) if (m !== 'push' && m !== 'pull') throw new Error(`--modes: unknown mode "${m}"`);
  const sidecarEnv: Record<string, string> = {};
  for (const pair of values['sidecar-env'] ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--sidecar-env: expected K=V, got "${pair}"`);
    sidecarEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  let sidecarConfig: Record<string, unknown> | undefined;
  if (values['sidecar-config'] !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values['sidecar-config']);
    } catch {
      throw new Error('--sidecar-config: not valid JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(
        '--sidecar-config: expected a JSON object of config sections, e.g. {"pool":{"maxThreads":1}}',
      );
    }
    sidecarConfig = parsed as Record<string, unknown>;
  }
  return {
    sizes,
    sidecarEnv,
    ...(sidecarConfig ? { sidecarConfig } : {}),
    only,
    modes: modes as Mode[],
    outDir: values.out ?? defaultOut,
    ...(values.profile ? { profileDir: values.profile } : {}),
  };
}
