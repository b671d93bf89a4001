/**
 * Which code a hook's throw fails its chain with, in-process: a store refusal keeps its own
 * (`CORE_ERR_PLUGIN_STORE_*_TOO_LARGE`, thrown by `ctx.store`), anything else is
 * `CORE_ERR_PLUGIN_THREW`, also a RelayError of another core code: a plugin cannot pass its
 * failure off as a timeout or a saturated pool.
 */
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { definePlugin, type MessageEvent, MessageEventSchema } from '../../../core/index.js';
import { runChain } from '../../../core/plugin-host/hook-chain.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { tempDatabase } from '../../helpers/temp-db.js';

const event: MessageEvent = MessageEventSchema.parse({ text: 'hi', source: { platform: 'x', chat_id: 'c' } });

/** Run one inbound chain of a plugin whose hook runs `hook` with a real store view. */
async function failureOf(
  t: Parameters<typeof tempDatabase>[0],
  hook: (store: ReturnType<KvStore['namespace']>) => void,
) {
  const kv = new KvStore(tempDatabase(t), Date.now, { maxKeyBytes: 4, maxValueBytes: 4 });
  const definition = definePlugin({
    name: 'p',
    inbound: (_input, ctx) => {
      hook(ctx.store);
      return undefined;
    },
  });
  const reply = await runChain(
    { k: 'inbound', chain: [0], input: { event, sessionKey: 'agent:main:x:dm:c', capabilities: [] } },
    {
      enter: () => undefined,
      plugin: async () => ({
        definition,
        context: (log) => ({ name: 'p', options: {}, store: kv.namespace('p'), log, identities: [] }),
      }),
    },
  );
  if (reply.ok) throw new Error('the chain did not fail');
  return reply.error;
}

test('a store refusal the hook lets through fails the chain with its own code', async (t) => {
  const value = await failureOf(t, (store) => store.set('k', 'long'));
  t.is(value.code, 'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE');
  t.regex(value.message, /^hook threw: RelayError: store value of key "k" is 6 bytes as JSON/);
  const key = await failureOf(t, (store) => store.remember('long key', 1, 1_000));
  t.is(key.code, 'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE');
});

test('any other throw is THREW, a RelayError of another core code too', async (t) => {
  const faked = await failureOf(t, () => {
    throw new RelayError('CORE_ERR_PLUGIN_TIMEOUT', 'not really');
  });
  t.is(faked.code, 'CORE_ERR_PLUGIN_THREW');
  const plain = await failureOf(t, () => {
    throw new RangeError('x');
  });
  t.is(plain.code, 'CORE_ERR_PLUGIN_THREW');
});
