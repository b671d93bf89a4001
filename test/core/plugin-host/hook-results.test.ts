import test from 'ava';
import { outboundVerdictSchema } from '../../../core/plugin-host/hook-results.js';

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
