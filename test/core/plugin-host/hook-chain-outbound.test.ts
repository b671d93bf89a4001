/**
 * The chain runner in-process (no pool) over outbound hooks: the action and tags amended in order, a
 * rejection naming its position, and a hook that may not change the op.
 */
import test from 'ava';
import { definePlugin } from '../../../core/index.js';
import { runChain } from '../../../core/plugin-host/hook-chain.js';
import type { ChainTask } from '../../../core/pool/task-protocol.js';
import { env, failed, ok } from './hook-chain-harness.js';

test('outbound hooks amend the action and tags in order, and a rejection names its position', async (t) => {
  const tagger = definePlugin({
    name: 'tagger',
    outbound: {
      ops: '*',
      hook: (input) => ({
        action: { ...input.action, metadata: { ...input.action.metadata, a: 1 } },
        platform: 'p',
      }),
    },
  });
  const checker = definePlugin({
    name: 'checker',
    outbound: {
      ops: ['send'],
      hook: (input) =>
        input.action.content === 'bad'
          ? { reject: { code: 'no_way', message: 'refused', status: 409 } }
          : { botId: 'b' },
    },
  });
  const task = (content: string): ChainTask => ({
    k: 'outbound',
    chain: [0, 1],
    input: { action: { op: 'send', chat_id: 'c', content, metadata: {} } },
  });
  const amended = ok(t, await runChain(task('fine'), env([tagger, checker]))).value;
  t.deepEqual(amended, {
    action: { op: 'send', chat_id: 'c', content: 'fine', metadata: { a: 1 } },
    platform: 'p',
    botId: 'b',
    // the last hook that replaced the action, which the host blames if the action is invalid
    amendedAt: 0,
  });
  const rejected = ok(t, await runChain(task('bad'), env([tagger, checker]))).value;
  t.deepEqual(rejected, { reject: { code: 'no_way', message: 'refused', status: 409 }, at: 1 });
});

test('an outbound hook may not change the op', async (t) => {
  const switcher = definePlugin({
    name: 'switcher',
    outbound: { ops: '*', hook: (input) => ({ action: { ...input.action, op: 'edit' } }) },
  });
  const task: ChainTask = {
    k: 'outbound',
    chain: [0],
    input: { action: { op: 'send', chat_id: 'c', content: 'x' } },
  };
  const reply = failed(t, await runChain(task, env([switcher])));
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
  t.regex(reply.error.message, /result: action\.op: .*"send"/);
});
