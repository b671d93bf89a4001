import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { StateCell } from '../../../core/transport/relay-state.js';
import { createLogSink } from '../../helpers/log-sink.js';

function cell() {
  const metrics = new Metrics();
  const sink = createLogSink();
  return { metrics, sink, cell: new StateCell(metrics, sink.logger) };
}

test('starts connecting; the gauge marks exactly the current state', async (t) => {
  const { cell: c, metrics } = cell();
  t.is(c.value, 'connecting');
  c.set('ready');
  t.is(await metrics.value('relay_state', { state: 'ready' }), 1);
  t.is(await metrics.value('relay_state'), 1);
});

test('listeners hear changes only, with the detail; unsubscribe works', (t) => {
  const { cell: c } = cell();
  const heard: unknown[] = [];
  const off = c.subscribe((s, d) => heard.push([s, d]));
  c.set('ready');
  c.set('ready');
  c.set('revoked', { code: 'CORE_ERR_TRANSPORT_REVOKED', reason: 'r' });
  off();
  c.set('stopped');
  t.deepEqual(heard, [
    ['ready', undefined],
    ['revoked', { code: 'CORE_ERR_TRANSPORT_REVOKED', reason: 'r' }],
  ]);
});

test('revoked only moves on to stopped; stopped is final', (t) => {
  const { cell: c } = cell();
  c.set('revoked');
  c.set('ready');
  t.is(c.value, 'revoked');
  t.true(c.final);
  c.set('stopped');
  c.set('connecting');
  t.is(c.value, 'stopped');
});

test('a throwing listener is logged and does not stop the others', (t) => {
  const { cell: c, sink } = cell();
  let second = 0;
  c.subscribe(() => {
    throw new Error('listener bug');
  });
  c.subscribe(() => {
    second += 1;
  });
  t.notThrows(() => c.set('ready'));
  t.is(second, 1);
  t.is(sink.withMsg('relay state listener threw').length, 1);
});
