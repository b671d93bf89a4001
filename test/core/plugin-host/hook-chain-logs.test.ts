/**
 * The chain runner in-process (no pool) collecting hook logs: with their position, made plain and bounded,
 * and returned along with a failure.
 */
import test from 'ava';
import { definePlugin } from '../../../core/index.js';
import { runChain } from '../../../core/plugin-host/hook-chain.js';
import { MAX_LOG_ENTRIES } from '../../../core/plugin-host/hook-log.js';
import { env, failed, inbound, ok } from './hook-chain-harness.js';

test('hook logs are collected with their position, made plain, and bounded', async (t) => {
  const chatty = definePlugin({
    name: 'chatty',
    inbound: (_input, ctx) => {
      ctx.log.info('hello', { n: 1, fn: () => 1 });
      for (let i = 0; i < MAX_LOG_ENTRIES + 10; i++) ctx.log.debug('spam');
    },
  });
  const quiet = definePlugin({ name: 'quiet', inbound: () => undefined });
  const reply = ok(t, await runChain(inbound([1, 0]), env([chatty, quiet])));
  const logs = reply.logs ?? [];
  t.deepEqual(logs[0], [1, 'info', 'hello', { n: 1 }]);
  t.is(logs.length, MAX_LOG_ENTRIES + 1);
  t.deepEqual(logs.at(-1), [1, 'warn', 'plugin log calls dropped', { dropped: 11 }]);
});

test('logs written before a failure come back with it', async (t) => {
  const noisy = definePlugin({
    name: 'noisy',
    inbound: (_input, ctx) => {
      ctx.log.warn('about to fail');
      throw new Error('x');
    },
  });
  const reply = failed(t, await runChain(inbound([0]), env([noisy])));
  t.deepEqual(reply.logs, [[0, 'warn', 'about to fail']]);
});
