/**
 * Two consumers of `GET /v1/events` take turns (a new stream replaces the old, agent-api.md):
 * the pull delivery says so once per episode, with a stable code, instead of nothing.
 */
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { PullDelivery, type PullStream } from '../../../sidecar/delivery/pull-delivery.js';
import { TURNS_THRESHOLD, TURNS_WINDOW_MS } from '../../../sidecar/delivery/stream-turns.js';
import { FakeClock } from '../../core/transport/fake-clock.js';
import { createLogSink } from '../../helpers/log-sink.js';

const CODE = 'CORE_ERR_DELIVERY_STREAMS_COMPETE';

function stream(): PullStream & { ended: boolean } {
  const closers: (() => void)[] = [];
  return {
    ended: false,
    write: () => true,
    end() {
      if (this.ended) return;
      this.ended = true;
      for (const cb of closers) cb();
    },
    onClose: (cb) => closers.push(cb),
  };
}

function setUp(t: import('ava').ExecutionContext) {
  const clock = new FakeClock();
  const sink = createLogSink();
  const metrics = new Metrics();
  const pull = new PullDelivery({ clock, log: sink.logger, metrics, keepAliveMs: 60_000 });
  t.teardown(() => pull.close());
  return { clock, sink, metrics, pull };
}

test('streams replacing each other within a minute are warned about once per episode', async (t) => {
  const { clock, sink, metrics, pull } = setUp(t);
  pull.attach(stream());
  for (let i = 0; i < TURNS_THRESHOLD - 1; i++) {
    clock.advance(5_000);
    pull.attach(stream());
  }
  t.is(sink.withCode(CODE).length, 0, 'not yet: one replacement too few');
  clock.advance(5_000);
  pull.attach(stream());
  const [line, ...more] = sink.withCode(CODE);
  t.is(more.length, 0);
  t.like(line, { replaced: TURNS_THRESHOLD, withinMs: (TURNS_THRESHOLD - 1) * 5_000, unacked: 0 });
  t.is(await metrics.value('relay_errors_total', { code: CODE }), 1);
  // the same episode goes on: no second line
  for (let i = 0; i < 5; i++) {
    clock.advance(1_000);
    pull.attach(stream());
  }
  t.is(sink.withCode(CODE).length, 1);
  // a quiet window ends it; the next episode is warned about again
  clock.advance(TURNS_WINDOW_MS + 1);
  for (let i = 0; i < TURNS_THRESHOLD; i++) {
    clock.advance(1_000);
    pull.attach(stream());
  }
  t.is(sink.withCode(CODE).length, 2);
});

test('a stream that closed before the next attached is not a replacement', (t) => {
  const { clock, sink, pull } = setUp(t);
  for (let i = 0; i < 10; i++) {
    const s = stream();
    pull.attach(s);
    clock.advance(1_000);
    s.end();
  }
  t.is(sink.withCode(CODE).length, 0);
});

test('replacements spread wider than the window are not an episode', (t) => {
  const { clock, sink, pull } = setUp(t);
  pull.attach(stream());
  for (let i = 0; i < 10; i++) {
    clock.advance(TURNS_WINDOW_MS / 2 + 1);
    pull.attach(stream());
  }
  t.is(sink.withCode(CODE).length, 0);
});
