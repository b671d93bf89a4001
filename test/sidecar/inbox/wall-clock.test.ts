/**
 * The inbox when the wall clock steps (an NTP correction, an operator fixing the date, a VM
 * resumed): what is kept and dropped, and in which order, follows arrival, not the wall time
 * stamped on the rows. Real SQLite file, real plugin host; only the inbox's clock is stepped.
 */
import test from 'ava';
import { type Clock, systemClock } from '../../../core/di/clock.js';
import { silentLogger } from '../../../core/log/logger.js';
import { pruneInbox } from '../../../sidecar/inbox/maintenance.js';
import { inbound, rows, sharedHost, startInbox, until, wrapInbound } from './inbox-harness.js';

const host = sharedHost();
const HOUR = 3_600_000;

/** The system clock whose wall time can be stepped by `offset` ms (timers stay real). */
class SteppedClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout {
    return systemClock.setTimeout(fn, ms);
  }
  clearTimeout(handle: NodeJS.Timeout | undefined): void {
    systemClock.clearTimeout(handle);
  }
}

test('dedupe keys over their cap after the clock stepped back: the oldest arrivals go, a recent redelivery is still a duplicate', async (t) => {
  const clock = new SteppedClock();
  const h = await startInbox(t, host(), {
    start: false,
    clock,
    config: { inbox: { dedupeMaxEntries: 1_000 } },
  });
  const { store } = h.inbox;
  for (let i = 0; i < 1_000; i++)
    h.inbox.routes.inbound(inbound({ text: `a${i}`, chat: `C${i % 7}`, bufferId: `before-${i}` }));
  await until(() => h.acks.length === 1_000, 30_000, 'acks before the step');
  clock.offset = -HOUR;
  for (let i = 0; i < 1_000; i++)
    h.inbox.routes.inbound(inbound({ text: `b${i}`, chat: `C${i % 7}`, bufferId: `after-${i}` }));
  await until(() => h.acks.length === 2_000, 30_000, 'acks after the step');
  // the cap's slack is 500 keys: past it, keys are pruned down to the cap
  await until(() => store.dedupe.size <= 1_500, 5_000, 'keys back near the cap');
  // at least the cap's worth of the latest arrivals stays: every key taken after the step
  const forgotten = Array.from({ length: 1_000 }, (_, i) => `buf:after-${i}`).filter(
    (k) => !store.dedupe.has(k),
  );
  t.deepEqual(forgotten, []);
  t.false(store.dedupe.has('buf:before-0'), 'the oldest arrival went first');
  // the connector redelivers a frame taken after the step (its ack was lost): a duplicate, acked,
  // not committed again
  const committed = rows(h).length;
  h.inbox.routes.inbound(inbound({ text: 'b0', chat: 'C0', bufferId: 'after-0' }));
  await until(() => h.acks.length === 2_001, 10_000, 'the redelivery acked');
  t.is(rows(h).length, committed);
});

test('dead letters over their cap after the clock stepped back: the oldest are dropped and the newest listed first', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  const { store } = h.inbox;
  const now = 1_800_000_000_000;
  const letter = (id: string) => ({
    id,
    kind: 'frame' as const,
    code: 'CORE_ERR_X',
    message: 'x',
    payload: {},
  });
  store.deadLetters.add(letter('dl_first'), now);
  store.deadLetters.add(letter('dl_second'), now + 1_000);
  // the clock steps back an hour: later dead letters carry earlier times
  store.deadLetters.add(letter('dl_third'), now - HOUR);
  store.deadLetters.add(letter('dl_fourth'), now - HOUR + 1_000);
  t.deepEqual(
    store.deadLetters.list(10).map((d) => d.id),
    ['dl_fourth', 'dl_third', 'dl_second', 'dl_first'],
  );
  const limits = {
    dedupeMaxAgeMs: HOUR,
    dedupeMaxEntries: 1_000,
    retainDeliveredMs: HOUR,
    maxDeadLetters: 2,
  };
  const report = pruneInbox(store, limits, now - HOUR + 2_000, silentLogger());
  t.is(report.deadLetters, 2);
  t.is(report.oldestDropped, 'dl_first');
  t.deepEqual(
    store.deadLetters.list(10).map((d) => d.id),
    ['dl_fourth', 'dl_third'],
  );
});

test('upkeep goes on after the clock stepped back: delivered rows past their retention are still pruned', async (t) => {
  const clock = new SteppedClock();
  const h = await startInbox(t, host(), { clock, maintenanceIntervalMs: 50 });
  const { store } = h.inbox;
  const stale = (chat: string) => {
    const id = h.inbox.submitInterrupt(`agent:main:telegram:dm:${chat}`, null);
    t.not(store.events.markDelivered(id, clock.now() - 2 * h.config.inbox.retainDeliveredMs), undefined);
    return id;
  };
  // pruning runs once a minute: two minutes on, a delivered row past its retention is gone
  const first = stale('U1');
  clock.offset = 2 * 60_000;
  await until(() => store.events.stateOf(first) === undefined, 10_000, 'the first row pruned');
  // the clock is set back a day, then two minutes pass again
  clock.offset = -24 * HOUR;
  const second = stale('U2');
  clock.offset = -24 * HOUR + 2 * 60_000;
  await until(() => store.events.stateOf(second) === undefined, 10_000, 'the second row pruned');
  t.pass();
});

/** An inbox whose inbound hooks wait for `release()`; the frame is live (no bufferId). */
async function heldInPlugins(t: import('ava').ExecutionContext, clock: SteppedClock) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered = false;
  const h = await startInbox(t, host(), {
    clock,
    wrap: wrapInbound(async (input, real) => {
      entered = true;
      await gate;
      return real.runInbound(input);
    }),
  });
  t.teardown(() => release());
  h.inbox.routes.inbound(inbound({ text: 'in the plugins', chat: 'S1' }));
  await until(() => entered, 10_000, 'the frame in its plugins');
  return { h, release };
}

test('a close while a live frame is in its plugins commits it though the clock steps forward a day', async (t) => {
  const clock = new SteppedClock();
  const { h, release } = await heldInPlugins(t, clock);
  const closed = h.inbox.close(10_000);
  clock.offset = 24 * HOUR;
  setTimeout(release, 300);
  await closed;
  clock.offset = 0;
  const again = await h.reopen({ start: false });
  t.is(rows(again).length, 1, 'the live frame was committed, not abandoned');
});

test('a close while a frame is in its plugins keeps its budget though the clock steps back an hour', async (t) => {
  const clock = new SteppedClock();
  const { h } = await heldInPlugins(t, clock);
  const closed = h.inbox.close(300);
  clock.offset = -HOUR;
  const winner = await Promise.race([
    closed.then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('still closing'), 10_000)),
  ]);
  t.is(winner, 'closed');
});

const WEEK = 7 * 24 * HOUR;

/** Wait for one whole pruning pass: a delivered row past its retention is gone once it ran. */
async function prunePassRan(h: Awaited<ReturnType<typeof startInbox>>, clock: SteppedClock, chat: string) {
  const id = h.inbox.submitInterrupt(`agent:main:telegram:dm:${chat}`, null);
  h.inbox.store.events.markDelivered(id, clock.now() - 2 * h.config.inbox.retainDeliveredMs);
  await until(() => h.inbox.store.events.stateOf(id) === undefined, 10_000, 'a pruning pass');
}

test('a forward step of the wall clock past the dedupe age does not forget the keys: a redelivery stays a duplicate', async (t) => {
  const clock = new SteppedClock();
  const h = await startInbox(t, host(), { clock, maintenanceIntervalMs: 50 });
  for (let i = 0; i < 3; i++)
    h.inbox.routes.inbound(inbound({ text: `s${i}`, chat: 'C1', bufferId: `step-${i}` }));
  await until(() => h.acks.length === 3, 10_000, 'acks before the step');
  const committed = rows(h).length;
  // NTP corrects a restored VM's clock by eight days
  clock.offset = WEEK + 24 * HOUR;
  await prunePassRan(h, clock, 'P1');
  t.true(h.inbox.store.dedupe.has('buf:step-0'), 'the key outlived the step');
  h.inbox.routes.inbound(inbound({ text: 's0', chat: 'C1', bufferId: 'step-0' }));
  await until(() => h.acks.length === 4, 10_000, 'the redelivery acked');
  t.is(rows(h).length, committed, 'the redelivery was not committed again (the pass took its marker row)');
});

test('a forward step of the wall clock while the sidecar was down does not forget the keys either', async (t) => {
  const clock = new SteppedClock();
  const h = await startInbox(t, host(), { clock, maintenanceIntervalMs: 50 });
  h.inbox.routes.inbound(inbound({ text: 'd0', chat: 'C1', bufferId: 'down-0' }));
  await until(() => h.acks.length === 1, 10_000, 'the ack before the stop');
  clock.offset = WEEK + 24 * HOUR;
  // the restart's first pass runs at start; two minutes on, the next one
  const again = await h.reopen();
  clock.offset += 2 * 60_000;
  await prunePassRan(again, clock, 'P2');
  t.true(again.inbox.store.dedupe.has('buf:down-0'), 'the key outlived the step');
});

test('a forward step of the wall clock past the dedupe age does not reset a failing frame’s attempt count', async (t) => {
  const clock = new SteppedClock();
  const h = await startInbox(t, host(), {
    clock,
    maintenanceIntervalMs: 50,
    config: { inbox: { maxAttempts: 3, dedupeMaxAgeMs: HOUR } },
    wrap: wrapInbound(async () => ({
      kind: 'failed',
      plugin: 'echo',
      error: { code: 'CORE_ERR_PLUGIN_THREW', message: 'always fails' },
    })),
  });
  const failures = () => h.sink.withMsg('transient failure, frame left unacked for redelivery').length;
  const send = () => h.inbox.routes.inbound(inbound({ text: 'poison', chat: 'C1', bufferId: 'poison-1' }));
  for (let attempt = 1; attempt <= 2; attempt++) {
    send();
    await until(() => failures() === attempt, 10_000, `attempt ${attempt} counted`);
  }
  // NTP corrects a restored VM's clock by a day: more than the counters' age limit
  clock.offset = 24 * HOUR;
  await prunePassRan(h, clock, 'P3');
  send();
  await until(() => h.acks.length === 1 || failures() === 3, 10_000, 'the third attempt settled');
  t.deepEqual(h.acks, [{ bufferId: 'poison-1', committedBefore: true }], 'quarantined at maxAttempts');
  t.is(h.inbox.stats().dead_letters[0]?.code, 'CORE_ERR_PLUGIN_QUARANTINED');
});
