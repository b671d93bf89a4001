/**
 * The parts of stray error handling that need no thread: blaming a plugin by stack frame, the
 * reason kept, a worker's tally, and the main thread's bounded log (a stepped clock).
 */
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { type StrayReport, strayPlugin, strayReason } from '../../../core/pool/stray-errors.js';
import { StrayLog } from '../../../core/pool/stray-log.js';
import { StrayTally } from '../../../core/pool/stray-trap.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { until } from '../../helpers/until.js';

const URLS = [
  'file:///opt/a/index.js',
  'file:///opt/b/index.js',
  'file:///srv/shared/c.js',
  'file:///srv/shared/d.js',
];

function withStack(...frames: string[]): Error {
  const err = new Error('x');
  err.stack = ['Error: x', ...frames.map((f) => `    at ${f}`)].join('\n');
  return err;
}

test('a stray error is blamed on the innermost plugin module its stack names', (t) => {
  t.is(
    strayPlugin(
      withStack('node:internal/timers:1:1', 'Timeout._onTimeout (file:///opt/b/index.js:3:9)'),
      URLS,
    ),
    1,
  );
  t.is(strayPlugin(withStack('file:///opt/a/index.js:9:1', 'x (file:///opt/b/index.js:3:9)'), URLS), 0);
  // a file of the plugin's package beside its module
  t.is(strayPlugin(withStack('Client.emit (file:///opt/a/lib/client.js:40:7)'), URLS), 0);
  // c and d share a directory: another file there blames neither
  t.is(strayPlugin(withStack('file:///srv/shared/helper.js:1:1'), URLS), undefined);
  // a dependency installed below the plugin is not the plugin's own file; nor is the core
  t.is(strayPlugin(withStack('file:///opt/a/node_modules/sdk/x.js:1:1'), URLS), undefined);
  t.is(
    strayPlugin(withStack('file:///opt/a/index.jsx:1:1'), ['file:///opt/a/index.js']),
    0,
    'same directory',
  );
  t.is(strayPlugin('a string', URLS), undefined);
  t.is(strayPlugin(null, URLS), undefined);
  const hostile = Object.defineProperty({}, 'stack', {
    get() {
      throw new Error('no');
    },
  });
  t.is(strayPlugin(hostile, URLS), undefined);
});

test('the reason is the first line, URLs removed, bounded; any value can be described', (t) => {
  t.is(strayReason(new TypeError('bad\nmore')), 'TypeError: bad');
  t.is(strayReason(new Error('GET https://u:p@host/x?token=abc failed')), 'Error: GET [url] failed');
  t.is(strayReason('plain'), 'plain');
  t.true(strayReason(new Error('y'.repeat(5_000))).length <= 200);
  t.is(strayReason(Object.create(null)), 'a value that cannot be printed (object)');
  // a bare webhook path (no scheme: no URL) loses its key-like segment, known or not
  t.is(
    strayReason(new Error('POST /api/webhooks/1/Xy9_kLmN0pQr-StUv1WxYz2AbCd failed')),
    'Error: POST /api/webhooks/1/[redacted] failed',
  );
});

test("a worker's tally posts a plugin's first stray error at once and the rest as one count", async (t) => {
  const posted: StrayReport[] = [];
  const tally = new StrayTally((r) => posted.push(r), 20);
  tally.add('a', 'Error: 1', 'exception');
  t.deepEqual(posted, [
    { k: 'relay-stray-error', plugin: 'a', count: 1, reason: 'Error: 1', origin: 'exception' },
  ]);
  for (let i = 2; i <= 500; i++) tally.add('a', `Error: ${i}`, 'rejection');
  t.is(posted.length, 1);
  await until(() => posted.length === 2, 5_000);
  t.like(posted[1], { plugin: 'a', count: 499, reason: 'Error: 500', origin: 'rejection' });
});

function startLog(now: { ms: number }) {
  const sink = createLogSink();
  const metrics = new Metrics();
  const log = new StrayLog({
    log: sink.logger,
    metrics,
    plugins: ['a', 'b'],
    intervalMs: 60_000,
    now: () => now.ms,
  });
  return { sink, metrics, log };
}

const report = (plugin: string, count: number, reason = 'Error: boom'): StrayReport => ({
  k: 'relay-stray-error',
  plugin,
  count,
  reason,
  origin: 'exception',
});

test('the main thread logs the first at once, then at most one summary per interval, and counts all', async (t) => {
  const now = { ms: 0 };
  const { sink, metrics, log } = startLog(now);
  t.teardown(() => log.close());
  log.receive(report('a', 1));
  for (let i = 0; i < 1_000; i++) {
    now.ms += 50;
    log.receive(report('a', 3, `Error: ${i}`));
  }
  // 50 s: still one line
  t.is(sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR').length, 1);
  now.ms += 10_001;
  log.receive(report('a', 1, 'Error: last'));
  const lines = sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR');
  t.is(lines.length, 2);
  t.like(lines[1], { msg: 'plugin stray errors repeated', plugin: 'a', count: 3_001, reason: 'Error: last' });
  t.is(await metrics.value('relay_plugin_stray_errors_total', { plugin: 'a' }), 3_002);
  t.is(await metrics.value('relay_errors_total', { code: 'CORE_ERR_PLUGIN_STRAY_ERROR' }), 2);
});

test('a label no configured plugin has counts as unknown; anything but a report is ignored', async (t) => {
  const { sink, metrics, log } = startLog({ ms: 0 });
  t.teardown(() => log.close());
  log.receive(report('forged-name', 2));
  for (const junk of [
    null,
    'x',
    { k: 'relay-stray-error' },
    { ...report('a', 1), count: -1 },
    { ...report('a', 1), count: 1.5 },
  ]) {
    log.receive(junk);
  }
  t.is(await metrics.value('relay_plugin_stray_errors_total', { plugin: '(unknown)' }), 2);
  t.is(await metrics.value('relay_plugin_stray_errors_total'), 2);
  t.like(sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR')[0], { plugin: '(unknown)' });
});

test('what is unlogged when the reports stop is summarised once the interval passes, or at close', (t) => {
  const now = { ms: 0 };
  const { sink, log } = startLog(now);
  log.receive(report('b', 1));
  log.receive(report('b', 7));
  t.is(sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR').length, 1);
  log.close();
  t.like(sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR')[1], { plugin: 'b', count: 7 });
  log.receive(report('b', 1));
  t.is(sink.withCode('CORE_ERR_PLUGIN_STRAY_ERROR').length, 2, 'nothing after close');
});
