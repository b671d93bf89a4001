/**
 * The size limits of one `ctx.store` write (docs/plugins.md §6; `store.maxKeyBytes`,
 * `store.maxValueBytes`): the store is a file on disk that every `get` reads back, so a key or a
 * value past its limit is refused with a coded error thrown to the hook, before anything is held
 * or written. Sizes are UTF-8 bytes, what the file stores, not UTF-16 characters.
 */
import { RelayError } from '../errors.js';
import { JsonTooLargeError, plainJson } from '../plugin-host/hook-results.js';

/** The limits of one write (from `config.store`). */
export interface StoreLimits {
  /** Most UTF-8 bytes of a key. */
  readonly maxKeyBytes: number;
  /** Most UTF-8 bytes of a value as JSON. */
  readonly maxValueBytes: number;
}

/** The defaults of `store.maxKeyBytes` (1 KiB) and `store.maxValueBytes` (1 MiB); schema.ts uses them. */
export const DEFAULT_STORE_LIMITS: StoreLimits = Object.freeze({
  maxKeyBytes: 1_024,
  maxValueBytes: 1024 * 1024,
});

/** The codes of a write refused for its size. */
export const REFUSAL_CODES = [
  'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE',
  'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE',
] as const;
/** One of {@link REFUSAL_CODES}. */
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** Is `code` one of {@link REFUSAL_CODES}? */
export function isRefusalCode(code: unknown): code is RefusalCode {
  return (REFUSAL_CODES as readonly unknown[]).includes(code);
}

/** Longest part of a refused key shown in the error, characters. */
const KEY_SHOWN = 40;

/** UTF-8 bytes of `text`; a UTF-16 unit is at most 3, so short text is not measured. */
function within(text: string, max: number): number | undefined {
  if (text.length * 3 <= max) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > max ? bytes : undefined;
}

/** The key as an error names it: its start, quoted. */
function shown(key: string): string {
  return JSON.stringify(key.length > KEY_SHOWN ? `${key.slice(0, KEY_SHOWN)}…` : key);
}

/** Throws `CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE` when `key` is longer than `maxKeyBytes`. */
export function checkKeySize(key: string, limits: StoreLimits): void {
  const bytes = within(key, limits.maxKeyBytes);
  if (bytes === undefined) return;
  throw new RelayError(
    'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE',
    `store key ${shown(key)} is ${bytes} bytes, over store.maxKeyBytes (${limits.maxKeyBytes}): ` +
      'use a shorter key (a chat or session id, or a hash of a long one), or raise store.maxKeyBytes',
  );
}

/** Throws `CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE` when `json` is larger than `maxValueBytes`. */
export function checkValueSize(key: string, json: string, limits: StoreLimits): void {
  const bytes = within(json, limits.maxValueBytes);
  if (bytes !== undefined) throw valueTooLarge(key, `${bytes} bytes`, limits.maxValueBytes);
}

function valueTooLarge(key: string, size: string, max: number): RelayError {
  return new RelayError(
    'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE',
    `store value of key ${shown(key)} is ${size} as JSON, over store.maxValueBytes (${max}): ` +
      'keep only what the next event needs, split it over several keys, or raise store.maxValueBytes',
  );
}

/**
 * `value` as JSON (undefined for undefined) once it is plain JSON data (else a TypeError naming the
 * property), refused past `maxValueBytes` while it is walked: the walk's estimate is at most twice
 * the JSON's length plus a few, and UTF-8 bytes are at least that length, so a value within the
 * limit is never refused by the walk (unless most of it is members set to `undefined`, which the
 * walk counts and JSON omits) and a huge one is refused before its text is built. The exact size
 * is checked by the store's write.
 */
export function encodeValue(key: string, value: unknown, limits: StoreLimits): string | undefined {
  try {
    return plainJson(value, 2 * limits.maxValueBytes + 16);
  } catch (err) {
    if (err instanceof JsonTooLargeError)
      throw valueTooLarge(key, `more than ${limits.maxValueBytes} bytes`, limits.maxValueBytes);
    throw err;
  }
}
