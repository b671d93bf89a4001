/**
 * What an op schema's parse becomes before it leaves the worker (op-schema.ts): plain data only,
 * since it crosses the thread boundary — a value structured clone or JSON cannot carry would fail
 * the whole batch's reply.
 */
import test from 'ava';
import { z } from 'zod';
import { RelayError } from '../../../core/errors.js';
import { opSchemaVerdict } from '../../../core/plugin-host/op-schema.js';

test('issues JSON cannot carry keep their code, path and message', (t) => {
  const schema = z.object({ op: z.literal('x') }).superRefine((_, ctx) => {
    ctx.addIssue({ code: 'custom', path: ['op'], message: 'nope', params: { big: 10n } });
  });
  const verdict = opSchemaVerdict(schema.safeParse({ op: 'x' }), 'x');
  if (!('invalid' in verdict)) return t.fail('accepted');
  t.deepEqual(verdict.invalid.issues, [{ code: 'custom', path: ['op'], message: 'nope' }]);
  t.notThrows(() => structuredClone(verdict));
});

test('a parsed action that no frame can carry is a bad result of the schema', (t) => {
  const schema = z.object({ op: z.literal('x') }).transform((a) => ({ ...a, seen: new Map() }));
  const err = t.throws(() => opSchemaVerdict(schema.safeParse({ op: 'x' }), 'x'), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
});

test('the parsed action is plain data with its op; a Date becomes its ISO string', (t) => {
  const at = new Date(0);
  const schema = z.object({ op: z.literal('x') }).transform((a) => ({ ...a, at }));
  t.deepEqual(opSchemaVerdict(schema.safeParse({ op: 'x' }), 'x'), {
    action: { op: 'x', at: '1970-01-01T00:00:00.000Z' },
  });
  const lost = opSchemaVerdict(z.object({}).safeParse({ op: 'x' }), 'x');
  t.like(lost, { invalid: { message: 'the schema of op "x" must keep the op field' } });
});
