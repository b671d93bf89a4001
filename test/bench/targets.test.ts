/**
 * The issue-6 verdicts the benchmark report prints. The RSS limit is 150 MB (10^6 bytes) while
 * the harness samples RSS in MiB (2^20 bytes): 150 MB is 143.05 MiB, so a 145 MiB peak misses.
 */
import test from 'ava';
import type { BenchResults } from '../../bench/report/results.js';
import { mibToMb, type TargetRow, targetRows } from '../../bench/report/targets.js';
import type { MemoryResult } from '../../bench/scenarios/memory.js';

/** A run that measured only memory, with the given peak RSS under load (MiB). */
function memoryRun(loadPeak: number): BenchResults {
  const held = { held: 0, rss: 0, failed: {} } as unknown as MemoryResult['bare']['inflight'];
  const memory: MemoryResult = {
    totalEvents: 1_000,
    missing: 0,
    sidecar: {
      idle: 90,
      postWarmup: 140,
      loadMedian: loadPeak - 2,
      loadPeak,
      afterRun: 141,
      growth: 141 / 140 - 1,
      ratePerS: 10_000,
      inflight: held,
      afterInflight: 150,
    },
    bare: { idle: 60, loadPeak: 80, inflight: held },
    samples: [],
  };
  return { inbound: [], latency: [], memory } as unknown as BenchResults;
}

/** The RSS row of a run's targets. */
function rssRow(loadPeak: number): TargetRow {
  const row = targetRows(memoryRun(loadPeak)).find((r) => r[0].startsWith('RSS'));
  if (!row) throw new Error('no RSS row');
  return row;
}

test('MiB convert to MB by 2^20 / 10^6', (t) => {
  t.is(mibToMb(1), 1.048576);
  t.true(Math.abs(mibToMb(143.05) - 150) < 0.01);
});

test('an RSS peak of 143 MiB meets 150 MB; 145 MiB (152 MB) misses it', (t) => {
  t.regex(rssRow(143)[2], /^\*\*met\*\*/);
  const missed = rssRow(145);
  t.regex(missed[2], /^\*\*missed\*\*/);
  t.regex(missed[1], /145(\.0)? MiB peak \(152/);
});
