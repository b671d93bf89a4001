/**
 * Shared set-up of the plugin key-value store's tests: a KvStore on a fresh SQLite file in a temp dir,
 * with a clock the test sets.
 */
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** A store on a fresh file with a settable clock. */
export function storeWithClock(t: Parameters<typeof tempDir>[0], file = databasePath(tempDir(t))) {
  const clock = { now: 1_000_000 };
  const db = openDatabase(file);
  t.teardown(() => db.close());
  return { kv: new KvStore(db, () => clock.now), clock, file };
}
