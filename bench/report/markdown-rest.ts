/**
 * The second half of the report: outbound, memory and reconnect sections, the sidecar's
 * warnings during the run, and CPU profile summaries (with `--profile`).
 */
import { ratio } from '../lib/stats.js';
import { dec, int, med, pct, table } from './format.js';
import type { BenchResults } from './results.js';

/** Sections 4 to 6 and the appendices of `r`. */
export function renderRest(r: BenchResults): string[] {
  const out: string[] = [];
  const o = r.outbound;
  if (o) {
    out.push(
      '',
      `## 4. Outbound (POST /v1/actions → outbound → outbound_result → response; ${o.durationMs} ms per level)`,
      '',
    );
    out.push(
      table(
        [
          'callers',
          'sidecar req/s',
          'sidecar p50',
          'sidecar p99',
          'bare relay req/s',
          'bare relay p99',
          'bare HTTP req/s',
          'bare HTTP p99',
          'overhead p99 vs relay',
          'req/s vs relay',
          'errors',
        ],
        o.levels.map((l) => [
          int(l.concurrency),
          med(
            l.runs.map((x) => x.sidecar.perS),
            int,
          ),
          med(l.runs.map((x) => x.sidecar.latency.p50)),
          med(l.runs.map((x) => x.sidecar.latency.p99)),
          med(
            l.runs.map((x) => x.bareRelay.perS),
            int,
          ),
          med(l.runs.map((x) => x.bareRelay.latency.p99)),
          med(
            l.runs.map((x) => x.bareHttp.perS),
            int,
          ),
          med(l.runs.map((x) => x.bareHttp.latency.p99)),
          med(l.runs.map((x) => x.sidecar.latency.p99 - x.bareRelay.latency.p99)),
          med(
            l.runs.map((x) => ratio(x.sidecar.perS, x.bareRelay.perS)),
            pct,
          ),
          `${l.runs.reduce((a, x) => a + x.sidecar.errors, 0)}`,
        ]),
      ),
    );
  }
  const mem = r.memory;
  if (mem) {
    const s = mem.sidecar;
    out.push(
      '',
      `## 5. Memory (RSS, MiB, threads included; one long run of ${int(mem.totalEvents)} events)`,
      '',
    );
    const refused = Object.entries(s.inflight.failed);
    if (refused.length > 0) {
      const list = refused.map(([k, n]) => `HTTP ${k}: ${n}`).join(', ');
      out.push(`Calls of the in-flight burst answered at once instead of held: ${list}.`, '');
    }
    out.push(
      table(
        ['state', 'sidecar', 'bare process', 'sidecar / bare'],
        [
          ['idle', dec(s.idle), dec(mem.bare.idle), `${dec(ratio(s.idle, mem.bare.idle))}×`],
          ['after warm-up', dec(s.postWarmup), '', ''],
          [
            `under load (${int(s.ratePerS)} events/s), median / peak`,
            `${dec(s.loadMedian)} / ${dec(s.loadPeak)}`,
            dec(mem.bare.loadPeak),
            `${dec(ratio(s.loadPeak, mem.bare.loadPeak))}×`,
          ],
          [
            'after the run, settled',
            `${dec(s.afterRun)} (${s.growth >= 0 ? '+' : ''}${pct(s.growth)} vs warm-up)`,
            '',
            '',
          ],
          [
            `${int(s.inflight.held)} of ${int(s.inflight.started)} outbound calls held in flight`,
            dec(s.inflight.rss),
            `${dec(mem.bare.inflight.rss)} (${int(mem.bare.inflight.held)} held)`,
            `${dec(ratio(s.inflight.rss, mem.bare.inflight.rss))}×`,
          ],
          ['after they completed, settled', dec(s.afterInflight), '', ''],
        ],
      ),
    );
  }
  const rc = r.reconnect;
  if (rc) {
    out.push(
      '',
      `## 6. Reconnect (${rc.runs.length} connector restarts, buffered frames at ${int(rc.ratePerS)}/s, ${int(rc.n)} per run)`,
      '',
    );
    out.push(
      table(
        [
          'run',
          'restart → ready (ms)',
          'restart → /readyz 200 (ms)',
          'whole outage (ms)',
          'owed at close',
          'lost',
          'duplicates at agent',
          'dials',
        ],
        rc.runs.map((x, i) => [
          `${i + 1}`,
          int(x.restartToReadyMs),
          int(x.restartToReadyzMs),
          int(x.outageMs),
          int(x.owed),
          int(x.lost),
          int(x.duplicates),
          int(x.reconnects),
        ]),
      ),
    );
  }
  const problems = Object.entries(r.problems);
  if (problems.length > 0) {
    out.push(
      '',
      '## Sidecar warnings and errors during the run',
      '',
      ...problems.map(([k, n]) => `- \`${k}\`: ${n}`),
    );
  }
  for (const prof of r.profiles ?? []) {
    out.push('', `## CPU profile ${prof.file.split('/').pop()} (busy ${int(prof.busyMs)} ms)`, '');
    out.push(
      table(
        ['self %', 'total %', 'function', 'where'],
        prof.bySelf
          .slice(0, 15)
          .map((h) => [dec(h.selfPct), dec(h.totalPct), `\`${h.name}\``, `\`${h.where}\``]),
      ),
    );
  }
  return out;
}
