import { once } from 'node:events';
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { systemClock } from '../../../core/di/clock.js';
import { armDeadline, MAX_SETTLE_TURNS, PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { FakeClock } from '../transport/fake-clock.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A deadline on a fake clock whose monotonic time the test sets (a freeze is a jump). */
function setup(progress?: () => number) {
  const clock = new FakeClock();
  let mono = 0;
  let fired = 0;
  const deadline = armDeadline(clock, 100, () => fired++, {
    now: () => mono,
    ...(progress ? { progress } : {}),
  });
  return {
    clock,
    deadline,
    fired: () => fired,
    /** The timer fires `lateMs` after its due time. */
    fireLate(lateMs: number) {
      mono = 100 + lateMs;
      clock.advance(100);
    },
  };
}

test('a deadline less than a pause late gives its verdict one turn later, even while its input grows', async (t) => {
  let bytes = 0;
  const d = setup(() => bytes);
  d.fireLate(PAUSE_DETECT_MS - 1);
  t.is(d.fired(), 0);
  bytes += 1;
  await turn();
  t.is(d.fired(), 1);
});

test('a deadline whose timer runs while its answer waits in the socket lets the answer win', async (t) => {
  // a freeze ending less than PAUSE_DETECT_MS after the due time, as a blocked main thread: on
  // resume libuv runs the expired timer before it reads the answer the peer (another thread)
  // sent meanwhile
  const peer = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const server = require('node:net').createServer((s) => {
       s.on('error', () => {});
       s.on('data', () => s.write('answer'));
     });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  t.teardown(() => peer.terminate());
  const [port] = (await once(peer, 'message')) as [number];
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  const outcome = new Promise<string>((resolve) => {
    const deadline = armDeadline(systemClock, 50, () => resolve('timed out'));
    socket.once('data', () => {
      deadline.clear();
      resolve('answered');
    });
  });
  socket.write('question');
  const until = performance.now() + 300;
  while (performance.now() < until) {
    // the main thread does nothing for 300 ms; the answer arrives in the kernel meanwhile
  }
  // was: 'timed out' (the verdict ran in the timers phase, before the poll phase read the answer)
  t.is(await outcome, 'answered');
});

test('a deadline fired late by a freeze gives its verdict a turn later, after the pending input was read', async (t) => {
  const d = setup();
  d.fireLate(PAUSE_DETECT_MS);
  t.is(d.fired(), 0);
  await turn();
  t.is(d.fired(), 1);
  await turn();
  t.is(d.fired(), 1);
});

test('a late deadline cleared while deferred (its answer was read) never fires', async (t) => {
  const d = setup();
  d.fireLate(5_000);
  d.deadline.clear();
  await turn();
  await turn();
  t.is(d.fired(), 0);
});

test('a late deadline waits while its input keeps arriving, then fires', async (t) => {
  let bytes = 0;
  const d = setup(() => bytes);
  d.fireLate(5_000);
  for (let i = 0; i < 5; i++) {
    bytes += 65_536;
    await turn();
    t.is(d.fired(), 0, `input still arriving at turn ${i}`);
  }
  await turn();
  t.is(d.fired(), 1);
});

test('a late deadline waits at most MAX_SETTLE_TURNS turns under a steady stream', async (t) => {
  let bytes = 0;
  const d = setup(() => bytes);
  d.fireLate(5_000);
  for (let i = 0; i < MAX_SETTLE_TURNS + 2 && d.fired() === 0; i++) {
    bytes++;
    await turn();
  }
  t.is(d.fired(), 1);
});
