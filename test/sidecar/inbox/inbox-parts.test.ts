/**
 * The pure parts of the inbox, alone: envelope encoding and attempt stamping, dedupe keys,
 * secret stripping of dead-letter payloads, the in-order commit chain, the plugin limiter,
 * backpressure hysteresis and the group-commit batcher.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import { silentLogger } from '../../../core/log/logger.js';
import { MessageEventSchema } from '../../../core/protocol/payloads.js';
import { openDatabase } from '../../../core/store/database.js';
import { Backpressure } from '../../../sidecar/inbox/backpressure.js';
import { bufferDedupeKey, eventDedupeKey } from '../../../sidecar/inbox/dedupe-key.js';
import {
  encodeInterruptEnvelope,
  encodeMessageEnvelope,
  newDeliveryId,
  pooledPrng,
  stampAttempt,
} from '../../../sidecar/inbox/envelope.js';
import { redactBodyB64, redactFrame } from '../../../sidecar/inbox/redact-frame.js';
import { ReorderChain } from '../../../sidecar/inbox/reorder-chain.js';
import { TaskLimiter } from '../../../sidecar/inbox/task-limiter.js';
import { WriteBatcher } from '../../../sidecar/inbox/write-batcher.js';
import { createLogSink } from '../../helpers/log-sink.js';
import type { Json } from '../../helpers/loopback-agent.js';
import { removeDir } from '../../helpers/temp-dir.js';

const event = MessageEventSchema.parse({
  text: 'a "quoted" \\"attempt\\":0, text',
  attempt: 0,
  source: { platform: 'discord', chat_id: 'C1', chat_type: 'group', user_id: 'U1' },
});

test('stampAttempt sets the top-level attempt only, even when the event holds look-alikes', (t) => {
  const stored = encodeMessageEnvelope('dlv_A', 'agent:main:discord:group:C1:U1', 0, event, ['x'], {
    frame: 'inbound',
  });
  const stamped = JSON.parse(stampAttempt(stored, 7)) as Json;
  t.is(stamped.attempt, 7);
  t.deepEqual(stamped.event, JSON.parse(JSON.stringify(event)));
  t.is(stamped.received_at, '1970-01-01T00:00:00.000Z');
  const interrupt = encodeInterruptEnvelope(
    'dlv_B',
    'k',
    0,
    { chat_id: null, reason: 'stop' },
    { frame: 'local' },
  );
  t.is(JSON.parse(stampAttempt(interrupt, 2)).attempt, 2);
  // an envelope not written by this module is re-encoded rather than patched
  t.deepEqual(JSON.parse(stampAttempt('{"attempt":5,"id":"x"}', 6)), { attempt: 6, id: 'x' });
});

test('delivery ids are dlv_<ulid> and increase', (t) => {
  const ids = Array.from({ length: 100 }, newDeliveryId);
  t.true(ids.every((id) => /^dlv_[0-9A-HJKMNP-TV-Z]{26}$/.test(id)));
  t.deepEqual([...ids].sort(), ids);
});

test('the ULID random source draws uniform bytes and refills its pool', (t) => {
  const prng = pooledPrng(32);
  const draws = Array.from({ length: 32 * 200 }, prng);
  t.true(draws.every((x) => x >= 0 && x < 1 && Number.isInteger(x * 256)));
  // each refill is new randomness, not the first pool again
  t.notDeepEqual(draws.slice(32, 64), draws.slice(0, 32));
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  t.true(Math.abs(mean - 0.498) < 0.03, `mean ${mean}`);
  t.true(new Set(draws.map((x) => x * 256)).size > 250, 'every byte value appears');
});

test('dedupe keys: bufferId, else platform:chat:message; none without a message id', (t) => {
  t.is(bufferDedupeKey('b-1'), 'buf:b-1');
  t.is(eventDedupeKey({ message_id: 'm1', source: { platform: 'slack', chat_id: 'C' } }), 'evt:slack:C:m1');
  t.is(eventDedupeKey({ source: { platform: 'slack', chat_id: 'C', message_id: 'm2' } }), 'evt:slack:C:m2');
  t.is(eventDedupeKey({ source: { platform: 'slack', chat_id: 'C' } }), undefined);
  // an edit keeps the message id: its key adds a digest of the new content, so each distinct edit
  // is an event of its own and a repeated one is still a duplicate
  const edit = (text: string, media_urls?: string[]) => ({
    message_id: 'm1',
    text,
    ...(media_urls ? { media_urls } : {}),
    source: { platform: 'slack', chat_id: 'C', message_is_edit: true },
  });
  t.regex(eventDedupeKey(edit('v2')) ?? '', /^evt:slack:C:m1:edit:[0-9a-f]{32}$/);
  t.is(eventDedupeKey(edit('v2')), eventDedupeKey(edit('v2')));
  t.not(eventDedupeKey(edit('v2')), eventDedupeKey(edit('v3')));
  t.not(eventDedupeKey(edit('v2')), eventDedupeKey(edit('v2', ['https://x/y.png'])));
  t.not(
    bufferDedupeKey('evt:slack:C:m1'),
    eventDedupeKey({ message_id: 'm1', source: { platform: 'slack', chat_id: 'C' } }),
  );
});

test('dead-letter payloads lose credential headers and body keys, keep everything else', (t) => {
  const body = Buffer.from(
    JSON.stringify({ token: 's3cr3t', data: { name: 'x', secret: 'y' }, id: 1 }),
  ).toString('base64');
  const frame = redactFrame({
    type: 'passthrough_forward',
    bufferId: 'b',
    forward: {
      platform: 'discord',
      headers: [
        ['Authorization', 'Bearer s3cr3t'],
        ['X-Signature-Ed25519', 'abc'],
        // named as a credential by the rule of body keys, not by the header pattern alone
        ['X-Access-Key', 'AKIAEXAMPLE'],
        ['X-Client-Credentials', 'cc'],
        ['Passphrase', 'pp'],
        ['content-type', 'application/json'],
      ],
      bodyB64: body,
    },
  }) as { forward: { headers: unknown; bodyB64: string } };
  t.deepEqual(frame.forward.headers, [['content-type', 'application/json']]);
  t.deepEqual(JSON.parse(Buffer.from(frame.forward.bodyB64, 'base64').toString()), {
    data: { name: 'x' },
    id: 1,
  });
  const form = Buffer.from('Body=hi&From=%2B1').toString('base64');
  t.is(redactBodyB64(form), form, 'a non-JSON body is kept as it is');
  t.false(
    JSON.stringify(redactFrame({ type: 'inbound', event: { token: 's3cr3t', text: 'x' } })).includes(
      's3cr3t',
    ),
  );
});

/** A reorder chain that records its flushes and holds its deferred drains for the test to run. */
function recordingChain<T>() {
  const flushed: T[][] = [];
  const deferred: (() => void)[] = [];
  const chain = new ReorderChain<T>(
    (items) => flushed.push(items),
    (fn) => deferred.push(fn),
  );
  return { chain, flushed, deferred };
}

test('the reorder chain flushes in sequence order, grouping what is ready', (t) => {
  const { chain, flushed, deferred } = recordingChain<string>();
  const seqs = [chain.next(), chain.next(), chain.next(), chain.next()];
  t.is(chain.pending, 4);
  chain.complete(seqs[2]!, 'c');
  chain.complete(seqs[1]!, 'b');
  t.is(deferred.length, 0, 'nothing flushes while the head is missing');
  chain.complete(seqs[0]!, 'a');
  chain.complete(seqs[0]!, 'again'); // a second completion of the same seq is ignored
  deferred.shift()!();
  t.deepEqual(flushed, [['a', 'b', 'c']]);
  chain.complete(seqs[3]!, undefined); // skipped without a flush
  deferred.shift()?.();
  t.deepEqual(flushed, [['a', 'b', 'c']]);
  t.is(chain.pending, 0);
});

test('the task limiter runs at most `limit` at once, in arrival order', async (t) => {
  const limiter = new TaskLimiter(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const tasks = Array.from({ length: 6 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      if (i === 3) throw new Error('task 3 fails');
      return i;
    }),
  );
  const results = await Promise.allSettled(tasks);
  t.is(most, 2);
  t.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  t.is(results[3]?.status, 'rejected');
  t.deepEqual(results[5], { status: 'fulfilled', value: 5 });
});

test('the reorder chain keeps order with thousands in flight, completed in reverse, over several turns', (t) => {
  const { chain, flushed, deferred } = recordingChain<number>();
  const run = (count: number) => {
    const seqs = Array.from({ length: count }, () => chain.next());
    for (const seq of [...seqs].reverse()) chain.complete(seq, seq % 7 === 3 ? undefined : seq);
    for (let fn = deferred.shift(); fn; fn = deferred.shift()) fn();
    return seqs;
  };
  const first = run(5_000); // the ring grows past its first 64 slots
  const second = run(100);
  t.deepEqual(
    flushed.flat(),
    [...first, ...second].filter((seq) => seq % 7 !== 3),
  );
  t.is(chain.pending, 0);
});

test('the task limiter lets a started task go: nothing keeps its result alive', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const limiter = new TaskLimiter(1);
  const results: WeakRef<object>[] = [];
  const run = () =>
    limiter.run(async () => {
      const result = { events: Array.from({ length: 100 }, (_, i) => ({ i })) };
      results.push(new WeakRef(result));
      await new Promise((resolve) => setImmediate(resolve));
      return result;
    });
  // the first starts at once, the other four wait in the limiter's queue
  await Promise.all([run(), run(), run(), run(), run()]).then(() => undefined);
  await new Promise((resolve) => setImmediate(resolve)); // a WeakRef holds its target for one job
  gc();
  t.is(results.length, 5);
  t.deepEqual(
    results.map((r) => r.deref() === undefined),
    [true, true, true, true, true],
  );
});

test('backpressure pauses at the limit and resumes at half of it', (t) => {
  const bp = new Backpressure(10, silentLogger());
  const seen: [number, boolean][] = [];
  let level = 0;
  bp.onChange((paused) => seen.push([level, paused]));
  bp.onChange(() => {
    throw new Error('a broken listener does not stop the others');
  });
  for (const n of [3, 9, 10, 12, 7, 6, 5, 4, 10]) {
    level = n;
    bp.update(n);
  }
  // on at the limit (10), off only at half of it (5), not as soon as it is under the limit
  t.deepEqual(seen, [
    [10, true],
    [5, false],
    [10, true],
  ]);
  t.true(bp.active);
});

test('running past twice the limit is reported once per episode: again only after the level fell under the limit', (t) => {
  const sink = createLogSink();
  const bp = new Backpressure(10, sink.logger);
  const reports = () => sink.withCode('CORE_ERR_INBOX_OVERLOADED').map((l) => l.pending);
  for (const n of [20, 25, 15, 22, 10]) bp.update(n);
  t.deepEqual(reports(), [20], 'one report while the level stays at or over the limit');
  for (const n of [9, 20]) bp.update(n);
  t.deepEqual(reports(), [20, 20], 'a new episode after the level fell under the limit');
});

test('the write batcher runs a turn of writes in a transaction; a failure fails only its caller', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-batcher-'));
  t.teardown(() => removeDir(dir));
  const db = openDatabase(join(dir, 'x.db'));
  t.teardown(() => db.close());
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const batcher = new WriteBatcher(db);
  const results = await Promise.allSettled([
    batcher.run(() => insert.run(1).changes),
    batcher.run(() => insert.run(null).changes), // NOT NULL: fails
    batcher.run(() => insert.run(3).changes),
  ]);
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  t.deepEqual(db.prepare('SELECT v FROM t ORDER BY v').pluck().all(), [1, 3]);
  const inside = await Promise.all([
    batcher.run(() => db.inTransaction),
    batcher.run(() => db.inTransaction),
  ]);
  t.deepEqual(inside, [true, true]);
  batcher.close();
  await t.throwsAsync(batcher.run(() => insert.run(6)));
});
