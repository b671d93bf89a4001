import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Database, openDatabase } from '../../core/store/database.js';
import { tempDir } from './temp-dir.js';

/** Open `sidecar.db` in a fresh temp dir for `t`. */
export function tempDatabase(t: ExecutionContext): Database {
  const db = openDatabase(join(tempDir(t, 'relay-db-'), 'sidecar.db'));
  t.teardown(() => db.close());
  return db;
}
