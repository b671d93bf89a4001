/**
 * `ctx.store` as a plugin sees it: one namespace of the shared {@link KvStore}, with the checks a
 * plugin's values need. JSON alone would store a Map as `{}` and take a function for `undefined`
 * (deleting what was there); both now throw naming the key, like a hook result that is not plain
 * data (docs/plugins.md §4, §6). Keys and values are bounded in UTF-8 bytes by the store's limits
 * (`store.maxKeyBytes`, `store.maxValueBytes`; store-limits.ts): the store is a file on disk.
 */

import type { PluginStore } from '../plugin-host/define-plugin.js';
import type { KvStore } from './kv-store.js';
import { encodeValue, isRefusalCode, type RefusalCode } from './store-limits.js';

/** Told of every write refused for its size, with its code and message (store-refusals.ts). */
export type OnRefused = (code: RefusalCode, message: string) => void;

/**
 * A {@link PluginStore} view of namespace `ns` of the store `store()` returns — resolved on each
 * call, so a worker can hand out views before it opens its connection. `refused` hears every write
 * refused for its size before the hook does, so a refusal the hook catches is still counted.
 */
export function namespaceView(store: () => KvStore, ns: string, refused?: OnRefused): PluginStore {
  const write = <R>(run: () => R): R => {
    try {
      return run();
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (refused && isRefusalCode(code)) refused(code, (err as Error).message);
      throw err;
    }
  };
  return {
    get: <T = unknown>(key: string) => store().get<T>(ns, checkKey(key)),
    set: (key: string, value: unknown, ttlMs?: number) =>
      write(() => {
        const kv = store();
        kv.setEncoded(ns, checkKey(key), encodeValue(key, value, kv.limits), ttlMs);
      }),
    remember: (key: string, value: unknown, ttlMs: number) =>
      write(() => {
        const kv = store();
        return kv.rememberEncoded(ns, checkKey(key), encodeValue(key, value, kv.limits), ttlMs);
      }),
    delete: (key: string) => store().delete(ns, checkKey(key)),
  };
}

/**
 * Throws RangeError unless `key` is a non-empty string. Its length is the write's to check
 * (`store.maxKeyBytes`): a key written under a larger limit can still be read and deleted.
 */
function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new RangeError('a store key must be a non-empty string');
  }
  return key;
}

/** Throws RangeError unless `ttlMs` is undefined or a positive finite number. */
export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  }
}
