/**
 * Giving the store's free pages back to the file system. SQLite keeps the pages of deleted rows
 * in the file for reuse; without auto-vacuum the file never shrinks, so the peak of a backlog
 * (an agent down for hours: gigabytes) stayed on disk for good after it was delivered and pruned.
 * Stores are therefore created with `auto_vacuum = INCREMENTAL`, and the checkpoint thread hands
 * free pages back in short steps ({@link reclaimFreePages}); a store created by an older build
 * is converted once at start when that is cheap ({@link enableIncrementalVacuum}).
 */
import type { Database } from './database.js';

/** `PRAGMA auto_vacuum` value of a store that can give pages back in steps. */
const INCREMENTAL = 2;

/**
 * Free pages always left in the file: a few MiB of slack, so steady pruning and inserting reuse
 * pages instead of shrinking and growing the file every minute.
 */
export const RECLAIM_FLOOR_PAGES = 1_024;

/**
 * Pages one `incremental_vacuum` step frees. Each page still in use near the end of the file is
 * moved into a hole (~0.1 ms a page, measured); a step holds the write lock, so the main
 * thread's commits wait for it: 32 pages keep that wait at a few ms, like a WAL restart.
 */
export const RECLAIM_STEP_PAGES = 32;

/** Store file figures, pages. */
export interface PageCounts {
  readonly pages: number;
  readonly free: number;
  readonly pageSize: number;
  /** 0 none, 1 full, 2 incremental. */
  readonly autoVacuum: number;
}

/** The file's page counts (reads the header; cheap). */
export function pageCounts(db: Database): PageCounts {
  const get = (pragma: string) => db.pragma(pragma, { simple: true }) as number;
  return {
    pages: get('page_count'),
    free: get('freelist_count'),
    pageSize: get('page_size'),
    autoVacuum: get('auto_vacuum'),
  };
}

/**
 * True while a store has more free pages than it keeps: above {@link RECLAIM_FLOOR_PAGES} and
 * above a quarter of the file. The quarter is what steady retention never reaches (a minute's
 * prune frees 1/60 of an hour's rows, which the next minute reuses), so only the aftermath of a
 * backlog or a lowered retention is given back.
 */
export function hasExcessFreePages(counts: PageCounts): boolean {
  return counts.free > RECLAIM_FLOOR_PAGES && counts.free * 4 > counts.pages;
}

/**
 * Give free pages back in steps of {@link RECLAIM_STEP_PAGES} for at most `budgetMs`, while the
 * store has excess ({@link hasExcessFreePages}); returns the pages freed. No-op on a store
 * without incremental auto-vacuum.
 */
export function reclaimFreePages(
  db: Database,
  budgetMs: number,
  clock: () => number = performance.now.bind(performance),
): number {
  const start = clock();
  let counts = pageCounts(db);
  if (counts.autoVacuum !== INCREMENTAL) return 0;
  const before = counts.pages;
  while (hasExcessFreePages(counts) && clock() - start < budgetMs) {
    db.pragma(`incremental_vacuum(${RECLAIM_STEP_PAGES})`);
    counts = pageCounts(db);
  }
  return before - counts.pages;
}

/** What {@link enableIncrementalVacuum} did. */
export type VacuumConversion =
  | { readonly outcome: 'already' }
  | { readonly outcome: 'converted'; readonly liveBytes: number; readonly freedBytes: number }
  | { readonly outcome: 'too-large'; readonly liveBytes: number; readonly freeBytes: number };

/**
 * Convert a store created without incremental auto-vacuum (by an older build) with one VACUUM,
 * which rewrites its live pages: done only while they come to at most `maxLiveBytes` (a second
 * or two, and as much free disk); a larger store is left as it is (reported, with its figures;
 * docs/operations.md, giving disk space back). Throws what SQLite throws (a full disk, a busy
 * reader): the caller reports it and runs on unconverted.
 */
export function enableIncrementalVacuum(db: Database, maxLiveBytes: number): VacuumConversion {
  const counts = pageCounts(db);
  if (counts.autoVacuum === INCREMENTAL) return { outcome: 'already' };
  const liveBytes = (counts.pages - counts.free) * counts.pageSize;
  if (liveBytes > maxLiveBytes) {
    return { outcome: 'too-large', liveBytes, freeBytes: counts.free * counts.pageSize };
  }
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
  const after = pageCounts(db);
  return { outcome: 'converted', liveBytes, freedBytes: (counts.pages - after.pages) * counts.pageSize };
}
