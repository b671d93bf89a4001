import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import type { IncomingFrame } from '../../../core/protocol/frames.js';
import { buildRouteTable } from '../../../core/router/inbound-routes.js';
import { RouteTable } from '../../../core/router/route-table.js';
import { createLogSink } from '../../helpers/log-sink.js';

const ack: IncomingFrame = { type: 'going_idle_ack' };
const interrupt: IncomingFrame = { type: 'interrupt_inbound', session_key: 'k', chat_id: 'c' };

test('a frame goes to the handler of its type, and only to it', (t) => {
  const sink = createLogSink();
  const seen: string[] = [];
  const table = new RouteTable(
    { going_idle_ack: () => seen.push('ack'), interrupt_inbound: (f) => seen.push(`int:${f.session_key}`) },
    sink.logger,
    new Metrics(),
  );
  table.dispatch(ack);
  table.dispatch(interrupt);
  t.deepEqual(seen, ['ack', 'int:k']);
  t.deepEqual(table.types(), ['going_idle_ack', 'interrupt_inbound']);
});

test('no route is reported once with its code and counted', async (t) => {
  const sink = createLogSink();
  const metrics = new Metrics();
  const table = new RouteTable({}, sink.logger, metrics);
  t.notThrows(() => table.dispatch(interrupt));
  const lines = sink.withCode('CORE_ERR_ROUTER_NO_ROUTE');
  t.is(lines.length, 1);
  t.is(lines[0]?.type, 'interrupt_inbound');
  t.is(await metrics.value('relay_frames_ignored_total', { reason: 'no_route' }), 1);
});

test('a throwing handler is reported and the caller goes on', async (t) => {
  const sink = createLogSink();
  const metrics = new Metrics();
  const table = new RouteTable(
    {
      going_idle_ack: () => {
        throw new Error('boom');
      },
    },
    sink.logger,
    metrics,
  );
  t.notThrows(() => table.dispatch(ack));
  t.is(sink.withCode('CORE_ERR_ROUTER_HANDLER_FAILED').length, 1);
  t.is(await metrics.value('relay_errors_total', { code: 'CORE_ERR_ROUTER_HANDLER_FAILED' }), 1);
});

test('a handler whose promise rejects is reported, not left unhandled', async (t) => {
  const sink = createLogSink();
  const table = new RouteTable(
    { going_idle_ack: async () => Promise.reject(new Error('later')) },
    sink.logger,
    new Metrics(),
  );
  table.dispatch(ack);
  const line = await sink.waitFor((l) => l.code === 'CORE_ERR_ROUTER_HANDLER_FAILED', 1_000);
  t.is(line.err, 'later');
});

test('the client table sends each of the six frame types to exactly one place', (t) => {
  const sink = createLogSink();
  const calls: string[] = [];
  const rec = (name: string) => () => {
    calls.push(name);
  };
  const table = buildRouteTable(
    {
      descriptor: rec('descriptor'),
      outbound_result: rec('outbound_result'),
      going_idle_ack: rec('going_idle_ack'),
    },
    {
      inbound: rec('inbound'),
      passthrough_forward: rec('passthrough_forward'),
      interrupt_inbound: rec('interrupt_inbound'),
    },
    sink.logger,
    new Metrics(),
  );
  const types = [
    'descriptor',
    'inbound',
    'outbound_result',
    'interrupt_inbound',
    'passthrough_forward',
    'going_idle_ack',
  ];
  for (const type of types) table.dispatch({ type } as IncomingFrame);
  t.deepEqual(calls, types);
});

test('without pipeline routes the pipeline frames hit the single no-route path', (t) => {
  const sink = createLogSink();
  const noop = () => {};
  const table = buildRouteTable(
    { descriptor: noop, outbound_result: noop, going_idle_ack: noop },
    undefined,
    sink.logger,
    new Metrics(),
  );
  table.dispatch({ type: 'inbound' } as IncomingFrame);
  t.false(table.has('inbound'));
  t.is(sink.withCode('CORE_ERR_ROUTER_NO_ROUTE').length, 1);
});
