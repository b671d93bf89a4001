/**
 * `npm run soak -- [--seed N] [--duration S] [--mode push|pull|both] [--runs N]`: the seeded chaos
 * soak (bench/soak/soak.ts) against the built CLI. Prints one report per run; exit 0 when every
 * run passed, 1 when an invariant was violated, 2 on a usage error.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatReport, runSoak } from './soak.js';

const USAGE = `usage: node dist/bench/soak/main.js [--seed N] [--duration S] [--mode push|pull|both] [--runs N] [--quiet]
  --seed N      first seed (default: random); run i uses seed N+i
  --duration S  seconds of faults per run (default 120); the drain after it is extra
  --mode        agent mode (default both: a push run, then a pull run, per seed)
  --runs N      seeds to run (default 1)
  --quiet       no progress lines, only the reports
  --gap MS      mean gap between events (default 25, about 40 events/s)
  --sidecar-config JSON  tunables over the soak's own, e.g. '{"inbox":{"maxIngestPending":8}}'
  --logs DIR    keep every sidecar life's output in DIR/<seed>-<mode>/ (the secrets in it are the run's own)`;

function parse(): {
  seed: number;
  durationMs: number;
  modes: ('push' | 'pull')[];
  runs: number;
  quiet: boolean;
  logs?: string;
  gapMs?: number;
  sidecarConfig?: Record<string, unknown>;
} {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      duration: { type: 'string' },
      mode: { type: 'string' },
      runs: { type: 'string' },
      quiet: { type: 'boolean' },
      logs: { type: 'string' },
      gap: { type: 'string' },
      'sidecar-config': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new Error('');
  const int = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${v}`);
    return n;
  };
  const mode = values.mode ?? 'both';
  if (!['push', 'pull', 'both'].includes(mode))
    throw new Error(`--mode must be push, pull or both, got ${mode}`);
  return {
    seed: int(values.seed, 'seed', Math.floor(Math.random() * 1_000_000)),
    durationMs: int(values.duration, 'duration', 120) * 1_000,
    modes: mode === 'both' ? ['push', 'pull'] : [mode as 'push' | 'pull'],
    runs: Math.max(1, int(values.runs, 'runs', 1)),
    quiet: values.quiet ?? false,
    ...(values.logs ? { logs: values.logs } : {}),
    ...(values.gap ? { gapMs: int(values.gap, 'gap', 25) } : {}),
    ...(values['sidecar-config']
      ? { sidecarConfig: JSON.parse(values['sidecar-config']) as Record<string, unknown> }
      : {}),
  };
}

let opts: ReturnType<typeof parse>;
try {
  opts = parse();
} catch (err) {
  const msg = (err as Error).message;
  process.stderr.write(`${msg ? `${msg}\n` : ''}${USAGE}\n`);
  process.exit(2);
}
let failed = 0;
for (let i = 0; i < opts.runs; i++) {
  for (const mode of opts.modes) {
    const seed = opts.seed + i;
    process.stdout.write(`soak: seed ${seed}, ${mode}, ${opts.durationMs / 1000} s of faults\n`);
    const report = await runSoak({
      seed,
      mode,
      durationMs: opts.durationMs,
      ...(opts.gapMs !== undefined ? { eventGapMs: opts.gapMs } : {}),
      ...(opts.sidecarConfig ? { sidecarConfig: opts.sidecarConfig } : {}),
      ...(opts.logs ? { logsDir: join(opts.logs, `${seed}-${mode}`) } : {}),
      ...(opts.quiet ? {} : { log: (line: string) => process.stdout.write(`  ${line}\n`) }),
    });
    process.stdout.write(`${formatReport(report)}\n`);
    if (!report.passed) failed += 1;
  }
}
process.stdout.write(failed === 0 ? 'soak: all runs passed\n' : `soak: ${failed} run(s) FAILED\n`);
process.exit(failed === 0 ? 0 : 1);
