/**
 * The chain runner in-process (no pool) when a plugin misbehaves: a throw is THREW at its chain position,
 * garbage results are BAD_RESULT, a plugin that fails to load fails with its own code, and a bad verdict
 * is explained by the shape it came closest to.
 */
import test from 'ava';
import { definePlugin } from '../../../core/index.js';
import { type ChainEnv, runChain } from '../../../core/plugin-host/hook-chain.js';
import type { ChainTask } from '../../../core/pool/task-protocol.js';
import { env, failed, inbound } from './hook-chain-harness.js';

test('a throw fails with THREW at its chain position', async (t) => {
  const fine = definePlugin({ name: 'fine', inbound: () => undefined });
  const thrower = definePlugin({
    name: 'thrower',
    inbound: async () => {
      throw new Error('nope');
    },
  });
  const reply = failed(t, await runChain(inbound([0, 0, 1]), env([fine, thrower])));
  t.is(reply.at, 2);
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_THREW');
  t.regex(reply.error.message, /nope/);
});

test('garbage results fail with BAD_RESULT', async (t) => {
  const cases: [string, unknown][] = [
    ['a string', 'garbage'],
    ['unknown keys', { evnt: {} }],
    ['an invalid replacement event', { event: { source: 42 } }],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return { event: o };
      })(),
    ],
    ['a bigint', { drop: 10n }],
  ];
  for (const [label, result] of cases) {
    const bad = definePlugin({ name: 'bad', inbound: () => result as undefined });
    const reply = failed(t, await runChain(inbound([0]), env([bad])));
    t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT', label);
  }
});

test('a plugin that fails to load fails the chain with its own code', async (t) => {
  const e: ChainEnv = {
    enter: () => undefined,
    plugin: async () => {
      throw Object.assign(new Error('gone'), { code: 'CORE_ERR_PLUGIN_LOAD_FAILED' });
    },
  };
  const reply = failed(t, await runChain(inbound([0]), e));
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
});

test('a bad verdict is explained by the shape it came closest to, not as "(root): Invalid input"', async (t) => {
  const verdicts: [string, unknown, RegExp][] = [
    [
      'an amended action without its op',
      { action: { chat_id: 'c', content: 'x' } },
      /result: action\.op: .*"send"/,
    ],
    ['a rejection without a message', { reject: { code: 'no_way' } }, /result: reject\.message: /],
    [
      'a rejection with a bad code',
      { reject: { code: 'No Way', message: 'm' } },
      /result: reject\.code: .*snake_case/,
    ],
  ];
  for (const [label, verdict, expected] of verdicts) {
    const hook = definePlugin({ name: 'h', outbound: { ops: '*', hook: () => verdict as undefined } });
    const task: ChainTask = {
      k: 'outbound',
      chain: [0],
      input: { action: { op: 'send', chat_id: 'c', content: 'x' } },
    };
    const reply = failed(t, await runChain(task, env([hook])));
    t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT', label);
    t.regex(reply.error.message, expected, label);
  }
});

test('a bad drop verdict names the drop, not the replacement shape', async (t) => {
  const dropper = definePlugin({ name: 'dropper', inbound: () => ({ drop: '' }) });
  const reply = failed(t, await runChain(inbound([0]), env([dropper])));
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
  t.regex(reply.error.message, /result: drop: /);
});
