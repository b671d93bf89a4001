/**
 * The store file as the running inbox sees it on disk, each upkeep: its size, its WAL's and its
 * free pages (`relay_store_bytes`), and whether the file at its path is still the one the inbox
 * opened. A file moved, copied over or deleted while the sidecar runs (a backup put back, the
 * data directory removed) leaves this process writing a file no one will open again: everything
 * committed from then on is lost at the next start, and a connection opened meanwhile (a pool
 * worker replaced after a crash) pairs the new file with the old WAL. That is reported
 * (`CORE_ERR_STORE_REPLACED`, once), so the operator restarts the sidecar, and from then on the
 * inbox refuses commits (frames held unacked, `/readyz` 503), so nothing more is acked meanwhile.
 *
 * The identity is also checked before each commit ({@link verify}, one stat of the path: ~5 µs
 * measured on a loaded 2-core box, against 55–80 µs for the smallest IMMEDIATE commit): checked
 * by the upkeep alone, frames committed and acked in the up to 5 s before it were lost.
 */
import { type Stats, statSync } from 'node:fs';
import type { Logger } from '../../core/log/logger.js';
import { reportError } from '../../core/log/report.js';
import type { Metrics } from '../../core/metrics/metrics.js';
import type { Database } from '../../core/store/database.js';
import { pageCounts } from '../../core/store/free-pages.js';

/** Watches one inbox's store file. */
export class StoreWatch {
  /** The file's identity at open; undefined for a store without a file (`:memory:`). */
  private readonly opened: Stats | undefined;
  private reported = false;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Called once, when the file at the path is found not to be the one opened. */
    private readonly onReplaced: () => void,
  ) {
    this.opened = statSync(db.name, { throwIfNoEntry: false });
  }

  /** Measure the store and check its identity (a stat of two files and two header reads). */
  check(): void {
    const file = this.db.name;
    const now = statSync(file, { throwIfNoEntry: false });
    const { free, pageSize } = pageCounts(this.db);
    this.metrics.storeBytes.set({ part: 'file' }, now?.size ?? 0);
    this.metrics.storeBytes.set(
      { part: 'wal' },
      statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0,
    );
    this.metrics.storeBytes.set({ part: 'free' }, free * pageSize);
    this.compare(now);
  }

  /**
   * Before a commit: check that the file at the path is still the one opened (reported and
   * refused from then on, as by {@link check}). Once reported, no more stats.
   */
  verify(): void {
    if (!this.opened || this.reported) return;
    let now: Stats | undefined;
    try {
      now = statSync(this.db.name, { throwIfNoEntry: false });
    } catch {
      // a stat that fails otherwise (EACCES on the directory) says nothing about the file: the
      // commit goes on, and the upkeep's check reports the failure
      return;
    }
    this.compare(now);
  }

  /** Report a path whose file (`now`) is not the one opened. */
  private compare(now: Stats | undefined): void {
    if (!this.opened || this.reported) return;
    if (now && now.ino === this.opened.ino && now.dev === this.opened.dev) return;
    this.reported = true;
    this.onReplaced();
    const fields = { file: this.db.name, found: now ? 'another file' : 'no file' };
    reportError(
      this.log,
      this.metrics,
      'CORE_ERR_STORE_REPLACED',
      'store file replaced while running; commits refused until a restart',
      fields,
      'error',
    );
  }
}
