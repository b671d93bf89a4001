/**
 * The `inbox_dead_letters` table: frames no plugin will ever accept (poison, quarantined) and
 * deliveries the agent rejected. Nothing is lost: each row keeps its error and a secret-free
 * payload, is listed in `/v1/status`, and can be replayed (in-process, or by the CLI from another
 * process: the request is a flag in the row that the running inbox picks up).
 */
import type BetterSqlite3 from 'better-sqlite3';

/** What kind of thing died: a connector frame, or a delivery to the agent. */
export type DeadLetterKind = 'frame' | 'delivery';

/** A dead letter as listed (without its payload). */
export interface DeadLetterSummary {
  readonly id: string;
  readonly kind: DeadLetterKind;
  readonly code: string;
  readonly message: string;
  /** ISO 8601 UTC. */
  readonly created_at: string;
}

/** A dead letter with its payload: the redacted frame (`frame`) or `{delivery_id}` (`delivery`). */
export interface DeadLetter extends DeadLetterSummary {
  readonly payload: unknown;
}

/** A dead letter to write. */
export interface NewDeadLetter {
  readonly id: string;
  readonly kind: DeadLetterKind;
  readonly code: string;
  readonly message: string;
  readonly payload: unknown;
}

interface Row {
  id: string;
  kind: DeadLetterKind;
  code: string;
  message: string;
  payload: string;
  created_at: number;
}

/** Dead letters beyond this many are pruned, oldest first (a poison flood must not fill the disk). */
export const MAX_DEAD_LETTERS = 100_000;

/** Prepared access to `inbox_dead_letters`. */
export class DeadLetters {
  private readonly addStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly removeStmt;
  private readonly requestStmt;
  private readonly requestedStmt;
  private readonly clearRequestStmt;
  private readonly countStmt;
  private readonly pruneStmt;

  /**
   * Order is arrival order, the rowid (an overwrite is a new row, so it counts as the newest), not
   * `created_at`: after the wall clock stepped back, later dead letters carry earlier times and
   * were listed last and dropped first at the cap. The one VACUUM (converting an older store,
   * free-pages.ts) keeps rowids, and incremental vacuum moves pages, never rows.
   */
  constructor(db: BetterSqlite3.Database) {
    this.addStmt = db.prepare<[string, string, string, string, string, number], void>(
      `INSERT OR REPLACE INTO inbox_dead_letters (id, kind, code, message, payload, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM inbox_dead_letters WHERE id = ?');
    this.listStmt = db.prepare<[number], Row>('SELECT * FROM inbox_dead_letters ORDER BY rowid DESC LIMIT ?');
    this.removeStmt = db.prepare<[string], void>('DELETE FROM inbox_dead_letters WHERE id = ?');
    this.requestStmt = db.prepare<[string], void>(
      'UPDATE inbox_dead_letters SET replay_requested = 1 WHERE id = ?',
    );
    this.requestedStmt = db
      .prepare<[], string>('SELECT id FROM inbox_dead_letters WHERE replay_requested = 1 ORDER BY rowid')
      .pluck();
    this.clearRequestStmt = db.prepare<[string], void>(
      'UPDATE inbox_dead_letters SET replay_requested = 0 WHERE id = ?',
    );
    this.countStmt = db.prepare<[], number>('SELECT COUNT(*) FROM inbox_dead_letters').pluck();
    this.pruneStmt = db.prepare<[number], Row>(
      `DELETE FROM inbox_dead_letters WHERE id IN
         (SELECT id FROM inbox_dead_letters ORDER BY rowid ASC LIMIT ?) RETURNING id, kind`,
    );
  }

  /** Write (or overwrite) a dead letter. The payload must already be free of secrets. */
  add(letter: NewDeadLetter, now: number): void {
    this.addStmt.run(
      letter.id,
      letter.kind,
      letter.code,
      letter.message,
      JSON.stringify(letter.payload),
      now,
    );
  }

  /** One dead letter with its payload. */
  get(id: string): DeadLetter | undefined {
    const row = this.getStmt.get(id);
    return row && { ...summary(row), payload: JSON.parse(row.payload) as unknown };
  }

  /** The latest `limit` dead letters, newest first. */
  list(limit = 50): DeadLetterSummary[] {
    return this.listStmt.all(limit).map(summary);
  }

  /** Remove a dead letter (it was replayed). */
  remove(id: string): void {
    this.removeStmt.run(id);
  }

  /** Flag a dead letter for replay by the running inbox; false when the id is unknown. */
  requestReplay(id: string): boolean {
    return this.requestStmt.run(id).changes > 0;
  }

  /** Clear the replay flag (the replay was started, or cannot be done). */
  clearReplay(id: string): void {
    this.clearRequestStmt.run(id);
  }

  /** Ids flagged for replay, oldest first. */
  replayRequested(): string[] {
    return this.requestedStmt.all();
  }

  /** How many dead letters exist. */
  count(): number {
    return this.countStmt.get() ?? 0;
  }

  /** Drop the oldest beyond `max`; returns the dropped ids and kinds. */
  prune(max = MAX_DEAD_LETTERS): { id: string; kind: DeadLetterKind }[] {
    const excess = this.count() - max;
    return excess > 0 ? this.pruneStmt.all(excess) : [];
  }
}

function summary(row: Row): DeadLetterSummary {
  return {
    id: row.id,
    kind: row.kind,
    code: row.code,
    message: row.message,
    created_at: new Date(row.created_at).toISOString(),
  };
}
