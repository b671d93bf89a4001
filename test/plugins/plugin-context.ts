/**
 * A plugin context for calling plugin definitions directly in tests (no pool): an in-memory
 * store with TTL on an injectable clock, captured log lines, and the fronted identities.
 */
import type { Identity, PluginContext, PluginDefinition, PluginStore } from '../../core/index.js';
import { rememberWrite } from '../../core/store/remember-rule.js';

/** One captured hook log line. */
export interface CapturedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** An in-memory {@link PluginStore} with TTL; `dump()` shows everything stored (for leak checks). */
export class MemoryStore implements PluginStore {
  private readonly entries = new Map<string, { json: string; expiresAt: number | undefined }>();
  /** Writes `remember` did not skip. */
  writes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get<T = unknown>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && this.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    // stored as JSON, like the durable store: callers never share references with it
    return JSON.parse(entry.json) as T;
  }

  set(key: string, value: unknown, ttlMs?: number): void {
    this.entries.set(key, {
      json: JSON.stringify(value),
      expiresAt: ttlMs === undefined ? undefined : this.now() + ttlMs,
    });
  }

  remember(key: string, value: unknown, ttlMs: number): boolean {
    const json = JSON.stringify(value);
    const entry = this.entries.get(key);
    const stored = entry && { value: entry.json, expires_at: entry.expiresAt ?? null };
    // the durable store's own rule, expiry included
    const expiresAt = rememberWrite(stored, json, ttlMs, this.now());
    if (expiresAt === undefined) return false;
    this.entries.set(key, { json, expiresAt });
    this.writes += 1;
    return true;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Every key and stored JSON, as one string. */
  dump(): string {
    return [...this.entries].map(([k, v]) => `${k}=${v.json}`).join('\n');
  }
}

/** A context plus what the hooks wrote. */
export interface TestContext<O> {
  readonly ctx: PluginContext<O>;
  readonly lines: CapturedLine[];
  readonly store: MemoryStore;
}

/** Build a context for `plugin`, parsing `options` with the plugin's own schema (defaults applied). */
export function testContext<O>(
  plugin: PluginDefinition<O>,
  init: { options?: unknown; identities?: readonly Identity[]; store?: MemoryStore } = {},
): TestContext<O> {
  const lines: CapturedLine[] = [];
  const store = init.store ?? new MemoryStore();
  const capture =
    (level: CapturedLine['level']) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      lines.push({ level, msg, fields });
    };
  const options = (plugin.options ? plugin.options.parse(init.options ?? {}) : {}) as O;
  const ctx: PluginContext<O> = {
    name: plugin.name,
    options,
    store,
    log: { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') },
    identities: init.identities ?? [],
  };
  return { ctx, lines, store };
}
