/**
 * Read-only looks into the sidecar's SQLite store on the soak's data dir. The soak reads the
 * file itself, beside the running sidecar, because the API lists 500 dead letters at most and
 * has no view of the pending envelopes; what the API shows of a dead letter is this row.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../core/store/database.js';

/** One dead letter as stored. */
export interface DeadLetterRow {
  readonly id: string;
  readonly code: string;
  readonly payload: string;
}

/**
 * The soak markers of every event in the sidecar's store (pending, delivered, dead-lettered).
 * A store that cannot be read gives an empty set and a note (a sidecar killed before it made
 * the file, say): the caller then counts nothing as committed.
 */
export function committedSeqs(dataDir: string, notes: string[]): Set<number> {
  const out = new Set<number>();
  let db: Database.Database | undefined;
  try {
    db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    const texts = [
      ...db.prepare('SELECT envelope AS t FROM inbox_envelopes').all(),
      ...db.prepare('SELECT payload AS t FROM inbox_dead_letters').all(),
    ] as { t: string }[];
    // "edit of soak-N" names the original, not the edit's own event
    for (const { t } of texts)
      for (const m of t.matchAll(/(?<!edit of )soak-(\d+)\b/g)) out.add(Number(m[1]));
  } catch (err) {
    notes.push(`could not read the store: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
  return out;
}

/** Every dead letter in the store. */
export function deadLetterRows(dataDir: string): DeadLetterRow[] {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, code, payload FROM inbox_dead_letters').all() as DeadLetterRow[];
  } finally {
    db.close();
  }
}
