import test from 'ava';
import { Heartbeat } from '../../../core/transport/heartbeat.js';
import { FakeClock } from './fake-clock.js';

/** One turn of the event loop: a deadline gives its verdict a turn after its timer. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const TIMINGS = { pingIntervalMs: 30_000, pongTimeoutMs: 60_000 };

function setup() {
  const clock = new FakeClock();
  const socket = {
    pings: 0,
    ping() {
      this.pings += 1;
    },
  };
  let dead = 0;
  const hb = new Heartbeat(socket, TIMINGS, clock, () => {
    dead += 1;
  });
  return { clock, socket, hb, dead: () => dead };
}

test('pings every interval while pongs come back', (t) => {
  const { clock, socket, hb, dead } = setup();
  hb.start();
  for (let i = 0; i < 10; i++) {
    clock.advance(30_000);
    hb.pong();
  }
  t.is(socket.pings, 10);
  t.is(dead(), 0);
});

test('no pong within the timeout declares the socket dead, once', async (t) => {
  const { clock, hb, dead } = setup();
  hb.start();
  clock.advance(30_000); // ping 1, deadline at 90 s
  clock.advance(59_999);
  await turn();
  t.is(dead(), 0);
  clock.advance(1);
  await turn(); // the verdict waits one turn: a pong the kernel already holds is read first
  t.is(dead(), 1);
  clock.advance(600_000);
  await turn();
  t.is(dead(), 1);
  t.is(clock.pending(), 0);
});

test('later pings do not push the pong deadline out', async (t) => {
  const { clock, hb, dead } = setup();
  hb.start();
  clock.advance(30_000 + 60_000);
  await turn();
  t.is(dead(), 1);
});

test('a pong after a ping clears the deadline', (t) => {
  const { clock, hb, dead } = setup();
  hb.start();
  clock.advance(30_000);
  clock.advance(50_000);
  hb.pong();
  clock.advance(20_000);
  t.is(dead(), 0);
});

test('stop clears every timer; start is idempotent', (t) => {
  const { clock, socket, hb } = setup();
  hb.start();
  hb.start();
  clock.advance(30_000);
  t.is(socket.pings, 1);
  hb.stop();
  t.is(clock.pending(), 0);
  clock.advance(120_000);
  t.is(socket.pings, 1);
});

test('a ping that throws (socket closing) is tolerated', (t) => {
  const clock = new FakeClock();
  const hb = new Heartbeat(
    {
      ping: () => {
        throw new Error('not open');
      },
    },
    TIMINGS,
    clock,
    () => {},
  );
  hb.start();
  t.notThrows(() => clock.advance(30_000));
  hb.stop();
});

test('a message still arriving at the deadline sets it again; the pong behind it then clears it', (t) => {
  const { clock, hb, dead } = setup();
  hb.start();
  clock.advance(30_000); // ping, deadline at 90 s
  for (let s = 0; s < 150; s += 10) {
    clock.advance(10_000);
    hb.data(); // a slice of one large message, never finished until now
  }
  t.is(dead(), 0);
  hb.parsed();
  hb.pong();
  clock.advance(60_000);
  hb.pong();
  t.is(dead(), 0);
});

test('a peer silent in the middle of a message is dead at the next deadline', async (t) => {
  const { clock, hb, dead } = setup();
  hb.start();
  clock.advance(30_000); // ping, deadline at 90 s
  clock.advance(50_000);
  hb.data(); // the start of a message, then nothing
  clock.advance(10_000); // 90 s: bytes came and the message is unfinished: set again, to 150 s
  await turn();
  t.is(dead(), 0);
  clock.advance(60_000);
  await turn();
  t.is(dead(), 1);
});

test('whole frames without a pong do not keep the socket alive', async (t) => {
  const { clock, hb, dead } = setup();
  hb.start();
  clock.advance(30_000); // ping, deadline at 90 s
  for (let s = 0; s < 60; s += 5) {
    clock.advance(5_000);
    hb.data();
    hb.parsed(); // a complete frame each time: a peer that writes but does not read
  }
  await turn();
  t.is(dead(), 1);
});
