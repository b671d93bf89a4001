/**
 * A batch in-process (no pool) on a real store file: the chains' store writes are held for the
 * batch and committed once at its end, and a commit that fails fails exactly the chains that wrote.
 * The pool and end-to-end tests run the same code behind the thread boundary.
 */
import test, { type ExecutionContext } from 'ava';
import {
  definePlugin,
  type MessageEvent,
  MessageEventSchema,
  type PluginDefinition,
} from '../../../core/index.js';
import type { ChainPlugin } from '../../../core/plugin-host/hook-chain.js';
import { type BatchEnv, HOLD_FLUSH_MS, runBatch, type Writer } from '../../../core/pool/run-batch.js';
import type { ChainTask } from '../../../core/pool/task-protocol.js';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** Two connections to one fresh file: the batch's, and another thread's. */
function stores(t: ExecutionContext): { mine: KvStore; theirs: KvStore } {
  const file = databasePath(tempDir(t));
  const [a, b] = [openDatabase(file), openDatabase(file)];
  t.teardown(() => {
    a.close();
    b.close();
  });
  return { mine: new KvStore(a), theirs: new KvStore(b) };
}

/** An env running `definitions` on `store`, recording which positions were entered. */
function env(store: KvStore, definitions: PluginDefinition[]): BatchEnv & { entered: string[] } {
  const entered: string[] = [];
  return {
    entered,
    enter: (item, position) => entered.push(`${item}.${position}`),
    plugin: async (i): Promise<ChainPlugin> => {
      const definition = definitions[i] as PluginDefinition;
      const base = {
        name: definition.name,
        options: {},
        store: store.namespace(definition.name),
        identities: [],
      };
      return { definition, context: (log) => ({ ...base, log }) };
    },
    hold: (writer) => store.hold(writer),
    flush: () => store.flush(),
    release: () => store.release<Writer>(),
  };
}

const eventOf = (chat: string): MessageEvent =>
  MessageEventSchema.parse({ text: 'hi', source: { platform: 'x', chat_id: chat } });

const inbound = (chat: string, chain = [0]): ChainTask => ({
  k: 'inbound',
  chain,
  input: { event: eventOf(chat), sessionKey: `agent:main:x:dm:${chat}`, capabilities: [] },
});

/** The chat of a hook's event. */
const chatOf = (event: Record<string, unknown>): string =>
  String((event.source as { chat_id?: unknown } | undefined)?.chat_id);

/** Writes the chat it sees (chats starting with "quiet" are only read); reads back chat c1. */
function writerPlugin(readBack: unknown[] = []): PluginDefinition {
  return definePlugin({
    name: 'writer',
    inbound({ event }, ctx) {
      readBack.push(ctx.store.get('c1'));
      const chat = chatOf(event);
      if (!chat.startsWith('quiet')) ctx.store.set(chat, { seen: true });
      return undefined;
    },
  });
}

/** A flush interval no test batch reaches: writes are held until the batch ends. */
const NEVER = 3_600_000;

/** Changes nothing. */
const passive = definePlugin({ name: 'passive', inbound: () => undefined });

test('writes of a batch are read back inside it and reach the file once it ends', async (t) => {
  const { mine, theirs } = stores(t);
  const seenByOthers: unknown[] = [];
  const observer = definePlugin({
    name: 'observer',
    inbound() {
      // what another connection sees while the batch runs
      seenByOthers.push(theirs.get('writer', 'c1'));
      return undefined;
    },
  });
  const readBack: unknown[] = [];
  const e = env(mine, [writerPlugin(readBack), observer]);
  const replies = await runBatch([inbound('c1'), inbound('c2', [1, 0])], e, NEVER);
  t.true(replies.every((r) => r.ok));
  t.deepEqual(e.entered, ['0.0', '1.0', '1.1']);
  t.deepEqual(seenByOthers, [undefined], 'not visible to another connection during the batch');
  t.deepEqual(readBack, [undefined, { seen: true }], 'visible to the batch itself');
  t.deepEqual(theirs.get('writer', 'c1'), { seen: true });
  t.deepEqual(theirs.get('writer', 'c2'), { seen: true });
  t.is(mine.release(), undefined, 'the batch released its hold');
});

test('a commit that fails fails the chains that wrote, at the position that wrote, and no other', async (t) => {
  const { mine, theirs } = stores(t);
  mine.database.pragma('busy_timeout = 20');
  // the batch's last hook takes the write lock on another connection, as a busy thread would
  const locker = definePlugin({
    name: 'locker',
    inbound({ event }, ctx) {
      if (chatOf(event) === 'quiet-last') theirs.database.exec('BEGIN IMMEDIATE');
      ctx.log.info('locker ran');
      return undefined;
    },
  });
  const e = env(mine, [passive, writerPlugin(), locker]);
  const replies = await runBatch(
    [inbound('c1', [0, 1]), inbound('quiet-1', [0, 1]), inbound('c2', [1, 2]), inbound('quiet-last', [2])],
    e,
    NEVER,
  );
  theirs.database.exec('COMMIT');
  t.deepEqual(
    replies.map((r) => (r.ok ? 'ok' : `${r.error.code}@${r.at}`)),
    ['CORE_ERR_PLUGIN_STORE_FAILED@1', 'ok', 'CORE_ERR_PLUGIN_STORE_FAILED@0', 'ok'],
  );
  const failed = replies[2];
  t.false(failed?.ok);
  if (failed && !failed.ok) {
    t.regex(failed.error.message, /^store write failed: .*(locked|busy)/i);
    t.is(failed.logs?.length, 1, 'the failed chain keeps its log lines');
  }
  t.is(theirs.get('writer', 'c1'), undefined, 'nothing of the failed commit reached the file');
  t.is(theirs.get('writer', 'c2'), undefined);
});

test('a failed chain keeps its own failure when its writes are lost too', async (t) => {
  const { mine, theirs } = stores(t);
  mine.database.pragma('busy_timeout = 20');
  const thrower = definePlugin({
    name: 'thrower',
    inbound(_input, ctx) {
      ctx.store.set('k', 1);
      theirs.database.exec('BEGIN IMMEDIATE');
      throw new Error('boom');
    },
  });
  const replies = await runBatch([inbound('c1')], env(mine, [thrower]), NEVER);
  theirs.database.exec('COMMIT');
  const [reply] = replies;
  t.false(reply?.ok);
  if (reply && !reply.ok) t.is(reply.error.code, 'CORE_ERR_PLUGIN_THREW');
});

test('a batch past its flush interval commits what it holds while a hook waits and before the next chain', async (t) => {
  const { mine, theirs } = stores(t);
  const seen: unknown[] = [];
  const sleepy = definePlugin({
    name: 'sleepy',
    async inbound({ event }, ctx) {
      if (chatOf(event) === 'wait') {
        // written, then the hook waits: only the flush timer can commit it meanwhile
        ctx.store.set('mine', 1);
        await new Promise((resolve) => setTimeout(resolve, HOLD_FLUSH_MS * 5));
        seen.push(theirs.get('sleepy', 'mine'));
      } else {
        // no timer runs between chains: the batch, past its interval, committed before this one
        seen.push(theirs.get('writer', 'c2'));
      }
      return undefined;
    },
  });
  const replies = await runBatch(
    [inbound('wait', [1]), inbound('c2'), inbound('after', [1])],
    env(mine, [writerPlugin(), sleepy]),
  );
  t.true(replies.every((r) => r.ok));
  t.deepEqual(seen, [1, { seen: true }], 'committed while waiting; committed before the next chain');
});
