/**
 * The shutdown budget when the wall clock steps during the drain (an NTP correction landing
 * while the sidecar stops): an in-process sidecar on real parts, with this process's `Date.now`
 * stepped once the connector receives `going_idle` (this file runs one test at a time for that).
 */
import test from 'ava';
import { secretOf, startConnector, startInProcess } from './e2e-harness.js';

const DAY = 24 * 3_600_000;

test.serial(
  'a clock stepped forward a day during the drain does not cut the later shutdown steps to nothing',
  async (t) => {
    const secret = secretOf('relay-secret');
    const connector = await startConnector(t, secret);
    const { sidecar, sink } = await startInProcess(t, {
      connector,
      secret,
      config: { shutdown: { budgetMs: 5_000 } },
    });
    const real = Date.now;
    t.teardown(() => {
      Date.now = real;
    });
    connector.onFrame((f) => {
      if (f.dir === 'in' && (f.frame as { type?: string }).type === 'going_idle')
        Date.now = () => real() + DAY;
    });
    await sidecar.stop();
    Date.now = real;
    t.is(sink.withMsg('shutdown complete').length, 1);
    t.deepEqual(
      sink.withCode('CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED').map((l) => l.step),
      [],
    );
  },
);
