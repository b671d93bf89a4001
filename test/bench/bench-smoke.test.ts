/**
 * The bench self-test: the real harness (`dist/bench/run.js --smoke`) drives a real sidecar
 * process through all six scenarios with tiny counts. It proves the harness works end to end —
 * every flow arrives complete, baselines ran beside the sidecar, nothing lost across the
 * connector restart — and checks no timing (that is the full benchmark's job).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { BenchResults } from '../../bench/report/results.js';
import type { FlowResult } from '../../bench/scenarios/measure.js';
import { repoRoot } from '../helpers/repo-root.js';

/** Run the harness; resolves with the exit code and stderr. */
function runHarness(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'bench', 'run.js'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    // bounded: a hung harness fails the test instead of hanging the suite
    const timer = setTimeout(() => child.kill('SIGKILL'), 290_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Every flow arrived complete and was actually measured. */
function complete(t: import('ava').ExecutionContext, label: string, f: FlowResult): void {
  t.true(f.sent > 0, `${label}: nothing sent`);
  t.is(f.received, f.sent, `${label}: ${f.sent - f.received} events missing ${f.diag ?? ''}`);
  t.true(f.ratePerS > 0, `${label}: no rate`);
}

test('the smoke run measures all six items end to end', async (t) => {
  // ≈ 20 s on an idle machine; a loaded one (a CI run beside other jobs) took over 110 s
  t.timeout(300_000);
  const out = mkdtempSync(join(tmpdir(), 'relay-bench-smoke-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));

  const { code, stderr } = await runHarness(['--smoke', '--out', out]);
  t.is(code, 0, stderr.slice(-3_000));
  const r = JSON.parse(readFileSync(join(out, 'latest.jsonl'), 'utf8')) as BenchResults;
  t.deepEqual(r.failures, []);
  t.is(r.sizes.name, 'smoke');

  // 1 and 2: both modes, sidecar and bare baseline in every run
  t.deepEqual(r.inbound.map((i) => i.mode).sort(), ['pull', 'push']);
  for (const ib of r.inbound) {
    for (const [k, f] of Object.entries(ib.runs[0]!)) complete(t, `inbound ${ib.mode} ${k}`, f as FlowResult);
  }
  t.is(r.latency.length, 2);
  for (const lat of r.latency) {
    t.deepEqual(
      lat.rates.map((x) => x.ratePerS),
      [100, 1_000, 5_000],
    );
    for (const rate of lat.rates) {
      complete(t, `latency ${lat.mode} ${rate.ratePerS}`, rate.runs[0]!.sidecar);
      t.true(Number.isFinite(rate.runs[0]!.sidecar.latency?.p99), 'sidecar p99 measured');
      t.true(Number.isFinite(rate.runs[0]!.bare.latency?.p99), 'bare p99 measured');
    }
  }

  // 3: forwards converted in the pool arrive; pool and main thread both measured
  for (const [k, f] of Object.entries(r.passthrough!.runs[0]!.ceiling)) complete(t, `passthrough ${k}`, f);
  t.deepEqual(
    r.passthrough!.poolVsMain[0]!.map((p) => p.platform),
    ['discord', 'twilio'],
  );

  // 4: every call answered 200 with success, at every level, for the sidecar and both baselines
  for (const level of r.outbound!.levels) {
    const run = level.runs[0]!;
    for (const [k, p] of Object.entries(run)) {
      t.true(p.completed > 0, `outbound ${level.concurrency} ${k}: nothing completed`);
      t.is(p.errors, 0, `outbound ${level.concurrency} ${k}: errors`);
    }
  }

  // 5: RSS read from /proc at every stage; every held call answered after release
  const mem = r.memory!;
  t.is(mem.missing, 0, mem.diag ?? '');
  const { sidecar, bare } = mem;
  for (const v of [
    sidecar.idle,
    sidecar.postWarmup,
    sidecar.loadPeak,
    sidecar.inflight.rss,
    bare.inflight.rss,
  ]) {
    t.true(v > 0, 'RSS measured');
  }
  t.is(sidecar.inflight.held, sidecar.inflight.started, JSON.stringify(sidecar.inflight.failed));
  t.deepEqual(sidecar.inflight.failed, {});
  t.is(bare.inflight.held, bare.inflight.started);

  // 6: the sidecar came back after the connector restart and lost nothing
  const rc = r.reconnect!.runs[0]!;
  t.true(rc.restartToReadyMs > 0);
  t.is(rc.lost, 0);

  // the markdown report was written beside the JSON
  t.regex(readFileSync(join(out, 'latest.md'), 'utf8'), /## Targets/);
});
