/**
 * Collects a task's hook log calls inside the worker; the main thread emits them through pino with
 * the plugin name. Bounded per task, and fields are reduced to plain data at the call so a hook
 * logging a function or a cycle can never break the reply's postMessage.
 */

import type { HookLogEntry, HookLogLevel } from '../pool/task-protocol.js';
import type { PluginLog } from './define-plugin.js';

/** Most log calls kept per task; later calls are counted in one final warning. */
export const MAX_LOG_ENTRIES = 50;
/** Longest kept message, characters. */
export const MAX_LOG_MESSAGE = 500;
/** Most characters of one call's fields as JSON; larger fields are replaced by a marker. */
export const MAX_LOG_FIELDS_CHARS = 16_384;

/** The log calls of one task. */
export class HookLogCollector {
  private readonly entries: HookLogEntry[] = [];
  private dropped = 0;

  /** A {@link PluginLog} whose calls are recorded for chain position `position`. */
  forPosition(position: number): PluginLog {
    const at = (level: HookLogLevel) => (msg: string, fields?: Record<string, unknown>) =>
      this.add(position, level, msg, fields);
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  }

  /** The entries to return with the reply, or undefined when nothing was logged. */
  drain(): HookLogEntry[] | undefined {
    if (this.dropped > 0) {
      const last = this.entries[this.entries.length - 1];
      this.entries.push([last?.[0] ?? 0, 'warn', 'plugin log calls dropped', { dropped: this.dropped }]);
    }
    return this.entries.length > 0 ? this.entries : undefined;
  }

  private add(position: number, level: HookLogLevel, msg: unknown, fields: unknown): void {
    if (this.entries.length >= MAX_LOG_ENTRIES) {
      this.dropped++;
      return;
    }
    const text = String(msg).slice(0, MAX_LOG_MESSAGE);
    const plain = plainFields(fields);
    this.entries.push(plain === undefined ? [position, level, text] : [position, level, text, plain]);
  }
}

function plainFields(fields: unknown): Record<string, unknown> | undefined {
  if (fields === undefined || fields === null) return undefined;
  if (typeof fields !== 'object' || Array.isArray(fields)) return { fields: String(fields) };
  let size = 0;
  try {
    // bounded while walked: a field of a hundred megabytes is never copied (twice) in the worker
    const json = JSON.stringify(fields, (key: string, value: unknown) => {
      size += key.length + (typeof value === 'string' ? value.length : 0) + 4;
      if (size > MAX_LOG_FIELDS_CHARS) throw new RangeError('fields too large');
      return value;
    });
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return size > MAX_LOG_FIELDS_CHARS ? { fieldsTooLarge: true } : { fieldsUnserialisable: true };
  }
}
