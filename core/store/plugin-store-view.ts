/**
 * `ctx.store` as a plugin sees it: one namespace of the shared {@link KvStore}, with the checks a
 * plugin's values need. JSON alone would store a Map as `{}` and take a function for `undefined`
 * (deleting what was there); both now throw naming the key, like a hook result that is not plain
 * data (docs/plugins.md §4, §6). Keys and values are bounded: the store is a file on disk.
 */

import type { PluginStore } from '../plugin-host/define-plugin.js';
import { plainJson } from '../plugin-host/hook-results.js';
import type { KvStore } from './kv-store.js';

/** Longest key, characters (a session key with its prefix fits many times over). */
export const MAX_STORE_KEY_CHARS = 1_024;
/** Most characters of one value as JSON: state for the next event, not a blob store. */
export const MAX_STORE_VALUE_CHARS = 1024 * 1024;

/**
 * A {@link PluginStore} view of namespace `ns` of the store `store()` returns — resolved on each
 * call, so a worker can hand out views before it opens its connection.
 */
export function namespaceView(store: () => KvStore, ns: string): PluginStore {
  return {
    get: <T = unknown>(key: string) => store().get<T>(ns, checkKey(key)),
    set: (key: string, value: unknown, ttlMs?: number) =>
      store().setEncoded(ns, checkKey(key), encoded(value), ttlMs),
    remember: (key: string, value: unknown, ttlMs: number) =>
      store().rememberEncoded(ns, checkKey(key), encoded(value), ttlMs),
    delete: (key: string) => store().delete(ns, checkKey(key)),
  };
}

/** Throws RangeError unless `key` is a string of 1 to {@link MAX_STORE_KEY_CHARS} characters. */
function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STORE_KEY_CHARS) {
    throw new RangeError(`a store key must be a string of 1-${MAX_STORE_KEY_CHARS} characters`);
  }
  return key;
}

/**
 * The value as JSON (undefined for undefined), once it is known to be plain JSON data within the
 * bound (else TypeError): the store writes this text, so the value is encoded once, not twice.
 */
function encoded(value: unknown): string | undefined {
  return plainJson(value, MAX_STORE_VALUE_CHARS);
}

/** Throws RangeError unless `ttlMs` is undefined or a positive finite number. */
export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  }
}
