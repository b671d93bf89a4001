/**
 * The process's default metrics (CPU, memory, event-loop lag, GC) are collected once per process
 * and shared by every Metrics instance that asks for them: prom-client's collectors cannot be
 * stopped (a GC observer, an event-loop delay monitor), so one per instance kept every stopped
 * sidecar's registry, and all its metrics, alive for good.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test, { type ExecutionContext } from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';

/** Build one Metrics with default metrics, check what it serves, and hand back only a WeakRef. */
async function servedAndDropped(t: ExecutionContext): Promise<WeakRef<object>> {
  const metrics = new Metrics({ defaultMetrics: true });
  metrics.errors.inc({ code: 'CORE_ERR_INTERNAL_THREW' });
  // each one serves the process metrics beside its own
  const text = await metrics.registry.metrics();
  t.true(text.includes('process_cpu_user_seconds_total'));
  t.true(text.includes('nodejs_eventloop_lag_seconds'));
  t.true(text.includes('relay_errors_total{code="CORE_ERR_INTERNAL_THREW"} 1'));
  return new WeakRef(metrics.registry);
}

test('a Metrics instance with default metrics is garbage once dropped: nothing process-wide keeps it', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const registries: WeakRef<object>[] = [];
  for (let i = 0; i < 5; i++) registries.push(await servedAndDropped(t));
  await new Promise((resolve) => setImmediate(resolve)); // a WeakRef holds its target for one job
  gc();
  t.deepEqual(
    registries.map((r) => r.deref() === undefined),
    [true, true, true, true, true],
  );
});

test('two Metrics instances count their own series and share the process metrics', async (t) => {
  const a = new Metrics({ defaultMetrics: true });
  const b = new Metrics({ defaultMetrics: true });
  a.reconnects.inc();
  t.is(await a.value('relay_reconnects_total'), 1);
  t.is(await b.value('relay_reconnects_total'), 0);
  const names = (m: Metrics) => m.registry.getMetricsAsArray().map((metric) => metric.name);
  t.true(names(a).includes('process_resident_memory_bytes'));
  t.deepEqual(names(a), names(b));
  // without default metrics, only the sidecar's own
  t.false(names(new Metrics()).includes('process_resident_memory_bytes'));
});
