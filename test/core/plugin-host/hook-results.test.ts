import test from 'ava';
import {
  ConvertResultSchema,
  outboundVerdictSchema,
  toPlainData,
} from '../../../core/plugin-host/hook-results.js';

test('the outbound verdict schema is built once per op and reused', (t) => {
  t.is(outboundVerdictSchema('send'), outboundVerdictSchema('send'));
  t.not(outboundVerdictSchema('send'), outboundVerdictSchema('edit'));
});

test('a cached verdict schema still refuses an amended action that changes its op', (t) => {
  const schema = outboundVerdictSchema('send');
  t.true(schema.safeParse(undefined).success);
  t.true(schema.safeParse({ action: { op: 'send', metadata: { scope_id: 'g' } } }).success);
  t.false(schema.safeParse({ action: { op: 'edit' } }).success);
  t.true(outboundVerdictSchema('edit').safeParse({ action: { op: 'edit' } }).success);
  t.false(schema.safeParse({ reject: { code: 'Bad Code', message: 'x' } }).success);
  t.false(schema.safeParse({ surprise: true }).success);
});

test('toPlainData keeps plain data, drops undefined keys, turns a Date into its string', (t) => {
  const at = new Date('2026-11-27T12:00:00.000Z');
  t.deepEqual(toPlainData({ a: [1, 'x', null, { b: true }], gone: undefined, at }), {
    a: [1, 'x', null, { b: true }],
    at: '2026-11-27T12:00:00.000Z',
  });
  t.deepEqual(toPlainData(Object.assign(Object.create(null), { bare: 1 })), { bare: 1 });
  t.is(toPlainData(undefined), undefined);
});

test('toPlainData refuses what JSON would drop or flatten without a word, naming the key', (t) => {
  t.throws(() => toPlainData({ event: { text: () => 'hi' } }), { message: '"text" is a function' });
  t.throws(() => toPlainData({ s: Symbol('x') }), { message: '"s" is a symbol' });
  t.throws(() => toPlainData({ m: new Map([[1, 2]]) }), {
    message: '"m" is a Map instance, not a plain object',
  });
  class Custom {
    readonly x = 1;
  }
  t.throws(() => toPlainData([new Custom()]), { message: '"0" is a Custom instance, not a plain object' });
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  t.throws(() => toPlainData(cycle), { message: /circular/ });
  t.throws(() => toPlainData({ n: 1n }), { message: /BigInt/ });
});

test('a convert result holds at most 100 events; a rejection status is an HTTP error status', (t) => {
  const events = (n: number) => ({ events: Array.from({ length: n }, () => ({ event: { text: 'x' } })) });
  t.true(ConvertResultSchema.safeParse(events(100)).success);
  t.false(ConvertResultSchema.safeParse(events(101)).success);
  const reject = (status?: number) =>
    outboundVerdictSchema('send').safeParse({
      reject: { code: 'no', message: 'no', ...(status === undefined ? {} : { status }) },
    }).success;
  t.true(reject());
  t.true(reject(400));
  t.true(reject(599));
  t.false(reject(200));
  t.false(reject(399));
  t.false(reject(600));
  t.false(reject(404.5));
});
