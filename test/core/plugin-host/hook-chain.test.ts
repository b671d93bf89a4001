/**
 * The chain runner in-process (no pool): verdicts, attribution by chain position, result
 * validation and log collection. The pool tests prove the same code behind the thread boundary.
 */
import test from 'ava';
import {
  definePlugin,
  type MessageEvent,
  MessageEventSchema,
  type PluginDefinition,
} from '../../../core/index.js';
import { type ChainEnv, runChain } from '../../../core/plugin-host/hook-chain.js';
import { MAX_LOG_ENTRIES } from '../../../core/plugin-host/hook-log.js';
import type { ChainTask, TaskFailure, TaskSuccess } from '../../../core/pool/task-protocol.js';

/** An env over in-memory definitions that records which positions were entered. */
function env(definitions: PluginDefinition[]): ChainEnv & { entered: number[] } {
  const entered: number[] = [];
  return {
    entered,
    enter: (p) => entered.push(p),
    plugin: async (i) => {
      const definition = definitions[i];
      if (!definition) throw new Error(`no plugin ${i}`);
      return {
        definition,
        context: (log) => ({ name: definition.name, options: {}, store: noStore, log, identities: [] }),
      };
    },
  };
}

const noStore = {
  get: () => undefined,
  set: () => undefined,
  remember: () => false,
  delete: () => undefined,
};

const event: MessageEvent = MessageEventSchema.parse({ text: 'hi', source: { platform: 'x', chat_id: 'c' } });

const inbound = (chain: number[]): ChainTask => ({
  k: 'inbound',
  chain,
  input: { event, sessionKey: 'agent:main:x:dm:c', capabilities: ['x.cap'] },
});

const forward = (text: string): ChainTask => ({
  k: 'convert',
  chain: [0],
  forward: {
    platform: 'x',
    botId: '',
    method: 'POST',
    path: '/',
    headers: [],
    bodyB64: Buffer.from(text).toString('base64'),
    profile: null,
  },
});

function ok(t: { fail(msg: string): void }, reply: Awaited<ReturnType<typeof runChain>>): TaskSuccess {
  if (!reply.ok) t.fail(`expected success, got ${JSON.stringify(reply)}`);
  return reply as TaskSuccess;
}

function failed(t: { fail(msg: string): void }, reply: Awaited<ReturnType<typeof runChain>>): TaskFailure {
  if (reply.ok) t.fail(`expected failure, got ${JSON.stringify(reply)}`);
  return reply as TaskFailure;
}

const converter = definePlugin({
  name: 'conv',
  passthrough: {
    platforms: ['x'],
    convert: (f) => {
      const text = f.body.toString('utf8');
      if (text === 'nothing') return { events: [], reason: 'ping' };
      if (text === 'invalid') return { events: [{ event: { text: 'no source' } }] };
      return {
        events: [{ event: { text, source: { platform: 'x', chat_id: 'c' } }, capabilities: ['x.cap'] }],
      };
    },
  },
});

test('convert decodes the body and validates each event', async (t) => {
  const reply = ok(t, await runChain(forward('héllo'), env([converter])));
  const value = reply.value as { events: { event: MessageEvent; capabilities: string[] }[] };
  t.is(value.events.length, 1);
  t.is(value.events[0]?.event.text, 'héllo');
  t.is(value.events[0]?.event.message_type, 'text');
  t.deepEqual(value.events[0]?.capabilities, ['x.cap']);
  t.is(reply.ms.length, 1);
});

test('convert with no events carries the reason (the final verdict on its input)', async (t) => {
  t.deepEqual(ok(t, await runChain(forward('nothing'), env([converter]))).value, {
    events: [],
    reason: 'ping',
  });
});

test('an invalid event from a converter is a bad result naming the field, not a verdict', async (t) => {
  const reply = failed(t, await runChain(forward('invalid'), env([converter])));
  t.is(reply.at, 0);
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
  t.regex(reply.error.message, /events\.0\.event\.source: /);
});

test('a bad converted event is reported by path, never by value', async (t) => {
  const secretish = 'body-value-4c1d';
  const wrongText = definePlugin({
    name: 'wrong-text',
    passthrough: {
      platforms: ['x'],
      // the second event is wrong; its value comes from the body and must not be echoed
      convert: (f) => ({
        events: [
          { event: { text: 'fine', source: { platform: 'x', chat_id: 'c' } } },
          { event: { text: [f.body.toString('utf8')], source: { platform: 'x', chat_id: 'c' } } },
        ],
      }),
    },
  });
  const reply = failed(t, await runChain(forward(secretish), env([wrongText])));
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
  t.regex(reply.error.message, /events\.1\.event\.text: /);
  t.false(reply.error.message.includes(secretish));
});

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
