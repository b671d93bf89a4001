/**
 * The two sides of store refusals (core/pool/store-refusals.ts): the worker's tally, drained into a
 * reply, and the main thread's count and bounded log, labels held to the configured names.
 */
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { REFUSAL_LOG_INTERVAL_MS, RefusalTally, StoreRefusals } from '../../../core/pool/store-refusals.js';
import type { TaskReply } from '../../../core/pool/task-protocol.js';
import { createLogSink } from '../../helpers/log-sink.js';

const VALUE = 'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE';
const REFUSALS = 'relay_plugin_store_refusals_total';

test('a tally sums per plugin and code, keeps the latest reason, and starts again once drained', (t) => {
  const tally = new RefusalTally();
  t.is(tally.drain(), undefined);
  tally.add('a', VALUE, 'first');
  tally.add('a', VALUE, `second ${'x'.repeat(1_000)}`);
  tally.add('b', VALUE, 'other');
  const drained = tally.drain() ?? [];
  t.like(drained[0], { plugin: 'a', code: VALUE, count: 2 });
  t.true((drained[0]?.reason.length ?? 0) <= 300);
  t.like(drained[1], { plugin: 'b', count: 1 });
  t.is(tally.drain(), undefined);
});

test('counted by configured name or (other), logged once then summarised; malformed entries ignored', async (t) => {
  const sink = createLogSink();
  const metrics = new Metrics();
  let clock = 0;
  const refusals = new StoreRefusals({ log: sink.logger, metrics, plugins: ['a'], now: () => clock });
  const reply = (
    plugin: string,
    code: string,
    count: number,
    reason = 'see https://x.test/?t=1',
  ): TaskReply => ({
    ok: true,
    value: null,
    ms: [],
    refused: [{ plugin, code, count, reason }],
  });
  refusals.receive([reply('a', VALUE, 2), reply('ghost', VALUE, 1), reply('a', 'CORE_ERR_OTHER', 5)]);
  refusals.receive([reply('a', VALUE, 0), reply('a', VALUE, 1.5)]);
  t.is(await metrics.value(REFUSALS, { plugin: 'a', code: VALUE }), 2);
  t.is(await metrics.value(REFUSALS, { plugin: '(other)', code: VALUE }), 1);
  t.is(sink.withMsg('plugin store write refused').length, 2);
  t.false(sink.text().includes('x.test'), 'URLs replaced');
  refusals.receive([reply('a', VALUE, 3)]);
  t.is(sink.withMsg('plugin store writes refused').length, 0);
  clock += REFUSAL_LOG_INTERVAL_MS;
  refusals.receive([reply('a', VALUE, 1)]);
  t.like(sink.withMsg('plugin store writes refused')[0], { plugin: 'a', code: VALUE, count: 4 });
  refusals.close();
});
