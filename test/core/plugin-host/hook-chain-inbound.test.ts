/**
 * The chain runner in-process (no pool) over inbound hooks: run in order with replacements and
 * capabilities flowing down, unchanged when no hook changes anything, and a drop stopping the chain at its
 * position. The pool tests prove the same code behind the thread boundary.
 */
import test from 'ava';
import { definePlugin, type MessageEvent } from '../../../core/index.js';
import { runChain } from '../../../core/plugin-host/hook-chain.js';
import { env, inbound, ok } from './hook-chain-harness.js';

test('inbound hooks run in order; replacements and capabilities flow down the chain', async (t) => {
  const seen: string[] = [];
  const first = definePlugin({
    name: 'first',
    inbound: (input) => {
      seen.push(`first:${input.event.text}`);
      return { event: { ...input.event, text: 'changed' }, capabilities: [...input.capabilities, 'more'] };
    },
  });
  const second = definePlugin({
    name: 'second',
    inbound: (input) => {
      seen.push(`second:${input.event.text}:${input.capabilities.join(',')}`);
    },
  });
  const e = env([first, second]);
  const value = ok(t, await runChain(inbound([0, 1]), e)).value as {
    event: MessageEvent;
    capabilities: string[];
  };
  t.deepEqual(seen, ['first:hi', 'second:changed:x.cap,more']);
  t.is(value.event.text, 'changed');
  t.deepEqual(value.capabilities, ['x.cap', 'more']);
  t.deepEqual(e.entered, [0, 1]);
});

test('a chain whose hooks change nothing answers unchanged (no event sent back)', async (t) => {
  const quiet = definePlugin({ name: 'quiet', inbound: () => undefined });
  const empty = definePlugin({ name: 'empty', inbound: () => ({}) });
  const value = ok(t, await runChain(inbound([0, 1]), env([quiet, empty]))).value;
  t.deepEqual(value, { unchanged: true });
});

test('a drop stops the chain and names the position', async (t) => {
  let ranAfter = false;
  const dropper = definePlugin({ name: 'dropper', inbound: () => ({ drop: 'spam' }) });
  const after = definePlugin({
    name: 'after',
    inbound: () => {
      ranAfter = true;
    },
  });
  const value = ok(t, await runChain(inbound([1, 0, 2]), env([dropper, after, after]))).value;
  t.deepEqual(value, { drop: 'spam', at: 1 });
  t.true(ranAfter, 'the plugin before the dropper ran');
});
