/**
 * The report of one run in markdown: machine and load, the targets table, then one section per
 * item with medians (min–max over the runs) and the ratio to the baseline measured in the same
 * run. `docs/benchmarks.md` quotes it.
 */
import { ratio } from '../lib/stats.js';
import { INBOUND_VARIANTS } from '../scenarios/inbound.js';
import { dec, int, med, pct, table } from './format.js';
import { renderRest } from './markdown-rest.js';
import type { BenchResults } from './results.js';
import { targetRows } from './targets.js';

/** Render `r`. */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [
    `# Benchmark run ${r.startedAt} (${r.sizes.name}, ${r.sizes.runs} run(s) per figure)`,
    '',
    `Machine: ${m.nproc} cores, ${m.cpuModel}, ${m.memGiB} GiB, ${m.platform}, node ${m.node}. ` +
      `Load average at start ${m.loadavg.join(' / ')}; during the run (1-min, every 5 s) ${med(r.load)}.`,
    '',
    'Figures: median (min–max) over the runs; ratios are computed per run against the baseline measured in the same run.',
    ...(r.sidecarSettings
      ? ['', `**Not the defaults:** every sidecar ran with ${JSON.stringify(r.sidecarSettings)}.`]
      : []),
    '',
    '## Targets',
    '',
    table(['target', 'measured (median)', 'verdict'], targetRows(r)),
  ];
  if (r.failures.length > 0) {
    out.push('', '## Failed scenarios', '', ...r.failures.map((f) => `- ${f.scenario}: ${f.error}`));
  }
  for (const ib of r.inbound) {
    const rows = INBOUND_VARIANTS.map(([v, label]) => {
      const sc = ib.runs.map((x) => x[`sidecar${v}`]);
      const bare = ib.runs.map((x) => x[`bare${v}`]);
      return [
        label,
        med(
          sc.map((x) => x.ratePerS),
          int,
        ),
        med(
          bare.map((x) => x.ratePerS),
          int,
        ),
        med(
          ib.runs.map((x) => ratio(x[`sidecar${v}`].ratePerS, x[`bare${v}`].ratePerS)),
          pct,
        ),
        med(
          sc.map((x) => x.cpuUsPerEvent),
          dec,
        ),
        med(
          bare.map((x) => x.cpuUsPerEvent),
          dec,
        ),
        `${sc.reduce((a, x) => a + x.sent - x.received, 0)}`,
      ];
    });
    out.push('', `## 1. Inbound ceiling — ${ib.mode} mode (${int(ib.n)} events per run)`, '');
    out.push(
      table(
        [
          'frames',
          'sidecar events/s',
          'bare socket events/s',
          'sidecar / bare',
          'sidecar CPU µs/event',
          'bare CPU µs/event',
          'missing',
        ],
        rows,
      ),
    );
  }
  for (const lat of r.latency) {
    out.push('', `## 2. Added latency — ${lat.mode} mode (connector send → agent receives, ms)`, '');
    out.push(
      table(
        [
          'rate',
          'events',
          'sidecar p50',
          'sidecar p99',
          'sidecar p999',
          'bare p50',
          'bare p99',
          'added p99 (sidecar − bare)',
        ],
        lat.rates.map((rate) => {
          const q = (k: 'p50' | 'p99' | 'p999', w: 'sidecar' | 'bare') =>
            rate.runs.map((x) => x[w].latency?.[k] ?? Number.NaN);
          return [
            `${int(rate.ratePerS)}/s`,
            int(rate.n),
            med(q('p50', 'sidecar')),
            med(q('p99', 'sidecar')),
            med(q('p999', 'sidecar')),
            med(q('p50', 'bare')),
            med(q('p99', 'bare')),
            med(
              rate.runs.map(
                (x) => (x.sidecar.latency?.p99 ?? Number.NaN) - (x.bare.latency?.p99 ?? Number.NaN),
              ),
            ),
          ];
        }),
      ),
    );
  }
  const p = r.passthrough;
  if (p) {
    out.push(
      '',
      `## 3. Passthrough (${int(p.n)} forwards per run; latency paced at ${int(p.pacedRatePerS)}/s)`,
      '',
    );
    out.push(
      table(
        ['frames', 'events/s', 'vs inbound', 'CPU µs/event', 'p50 ms', 'p99 ms', 'added p50 vs inbound'],
        (['inbound', 'discord', 'twilio'] as const).map((k) => [
          k === 'inbound' ? 'inbound (no conversion)' : `${k} forward`,
          med(
            p.runs.map((x) => x.ceiling[k].ratePerS),
            int,
          ),
          med(
            p.runs.map((x) => ratio(x.ceiling[k].ratePerS, x.ceiling.inbound.ratePerS)),
            pct,
          ),
          med(p.runs.map((x) => x.ceiling[k].cpuUsPerEvent)),
          med(p.runs.map((x) => x.paced[k].latency?.p50 ?? Number.NaN)),
          med(p.runs.map((x) => x.paced[k].latency?.p99 ?? Number.NaN)),
          med(
            p.runs.map(
              (x) => (x.paced[k].latency?.p50 ?? Number.NaN) - (x.paced.inbound.latency?.p50 ?? Number.NaN),
            ),
          ),
        ]),
      ),
    );
    out.push(
      '',
      'Worker pool vs converting on the main thread (in the harness process, real pool and plugins):',
      '',
    );
    out.push(
      table(
        [
          'platform',
          'pool p50 ms',
          'pool p99 ms',
          'main p50 ms',
          'main p99 ms',
          'pool adds (p50)',
          'pool conv/s (64 in flight)',
          'main conv/s',
        ],
        (['discord', 'twilio'] as const).map((plat) => {
          const xs = p.poolVsMain.map((run) => run.find((e) => e.platform === plat)!);
          return [
            plat,
            med(xs.map((x) => x.poolLatency.p50)),
            med(xs.map((x) => x.poolLatency.p99)),
            med(xs.map((x) => x.mainLatency.p50)),
            med(xs.map((x) => x.mainLatency.p99)),
            med(xs.map((x) => x.poolLatency.p50 - x.mainLatency.p50)),
            med(
              xs.map((x) => x.poolPerS),
              int,
            ),
            med(
              xs.map((x) => x.mainPerS),
              int,
            ),
          ];
        }),
      ),
    );
  }
  out.push(...renderRest(r));
  return `${out.join('\n')}\n`;
}
