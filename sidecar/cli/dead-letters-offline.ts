/**
 * `relay-sidecar dead-letters` while the sidecar is not running: list and show read the store
 * in `SIDECAR_DATA_DIR` directly, and replay flags the dead letter there; the inbox replays
 * flagged dead letters when it starts (and every few seconds while it runs).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../../core/config/schema.js';
import { databasePath, openDatabase } from '../../core/store/database.js';
import { DeadLetters } from '../inbox/dead-letters.js';

/** What the offline path answers: the same shapes as the API, or an API-style error. */
export type OfflineAnswer =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** The action, run against the store file; undefined when there is no store to read. */
export function deadLettersOffline(
  config: Config,
  action: { kind: 'list'; limit?: number } | { kind: 'show' | 'replay'; id: string },
): OfflineAnswer | undefined {
  const file = resolve(databasePath(config.dataDir));
  if (!existsSync(file)) return undefined;
  // list and show only read: a store this user may only read still answers them
  const db = openDatabase(file, undefined, { readOnly: action.kind !== 'replay' });
  try {
    const letters = new DeadLetters(db);
    if (action.kind === 'list') return { ok: true, body: { dead_letters: letters.list(action.limit ?? 50) } };
    const found = action.kind === 'show' ? letters.get(action.id) : letters.requestReplay(action.id);
    if (!found) {
      return { ok: false, code: 'unknown_dead_letter', message: `no dead letter ${action.id} in ${file}` };
    }
    return { ok: true, body: found };
  } finally {
    db.close();
  }
}
