/** A store file in a temp directory, closed and removed with the test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Database, openDatabase } from '../../core/store/database.js';

/** Open `sidecar.db` in a fresh temp dir for `t`. */
export function tempDatabase(t: ExecutionContext): Database {
  const dir = mkdtempSync(join(tmpdir(), 'relay-db-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'sidecar.db'));
  t.teardown(() => db.close());
  return db;
}
