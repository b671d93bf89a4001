/**
 * Shared set-up of the chain runner's in-process tests (no pool): an env over in-memory plugin definitions
 * that records the positions entered, inbound and convert tasks, a converter plugin, and narrowing of a
 * reply to success or failure.
 */
import {
  definePlugin,
  type MessageEvent,
  MessageEventSchema,
  type PluginDefinition,
} from '../../../core/index.js';
import { type ChainEnv, runChain } from '../../../core/plugin-host/hook-chain.js';
import type { ChainTask, TaskFailure, TaskSuccess } from '../../../core/pool/task-protocol.js';

/** An env over in-memory definitions that records which positions were entered. */
export function env(definitions: PluginDefinition[]): ChainEnv & { entered: number[] } {
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

/** A plugin store that holds nothing: the chain runner's tests never touch it. */
export const noStore = {
  get: () => undefined,
  set: () => undefined,
  remember: () => false,
  delete: () => undefined,
};

/** The message event the inbound tasks carry. */
export const event: MessageEvent = MessageEventSchema.parse({
  text: 'hi',
  source: { platform: 'x', chat_id: 'c' },
});

/** An inbound task over `event` through the plugins at `chain`'s positions. */
export const inbound = (chain: number[]): ChainTask => ({
  k: 'inbound',
  chain,
  input: { event, sessionKey: 'agent:main:x:dm:c', capabilities: ['x.cap'] },
});

/** A convert task for the plugin at position 0, with `text` as the forwarded body. */
export const forward = (text: string): ChainTask => ({
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

/** The reply as a success; fails the test (with the reply) when it is not. */
export function ok(t: { fail(msg: string): void }, reply: Awaited<ReturnType<typeof runChain>>): TaskSuccess {
  if (!reply.ok) t.fail(`expected success, got ${JSON.stringify(reply)}`);
  return reply as TaskSuccess;
}

/** The reply as a failure; fails the test (with the reply) when it succeeded. */
export function failed(
  t: { fail(msg: string): void },
  reply: Awaited<ReturnType<typeof runChain>>,
): TaskFailure {
  if (reply.ok) t.fail(`expected failure, got ${JSON.stringify(reply)}`);
  return reply as TaskFailure;
}

/**
 * A converter plugin: the body becomes one message event; "nothing" converts to none (reason ping),
 * "invalid" to an event without a source.
 */
export const converter = definePlugin({
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
