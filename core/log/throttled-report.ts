/**
 * A log line that something can make very often (a plugin's interval throwing every millisecond,
 * workers dying in a loop): the first occurrence is reported at once, the later ones are summed
 * into one summary (how many, the latest) at most once per interval, so the log stays bounded
 * whatever the rate. The counting in metrics is the caller's, per occurrence.
 */

/** Construction options of {@link ThrottledReport}. */
export interface ThrottledReportOptions<T> {
  /** Least time between two lines, ms. */
  readonly intervalMs: number;
  /** The monotonic clock, ms. */
  readonly now: () => number;
  /** Report the first occurrence. */
  readonly first: (value: T) => void;
  /** Report `count` occurrences since the last line; `latest` is the newest of them. */
  readonly repeated: (count: number, latest: T) => void;
}

/** First occurrence at once, then at most one summary per interval. */
export class ThrottledReport<T> {
  private loggedAt: number | undefined;
  private unlogged = 0;
  private latest: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ThrottledReportOptions<T>) {}

  /** `count` more occurrences, `value` the newest. */
  add(value: T, count = 1): void {
    if (this.closed) return;
    const now = this.options.now();
    if (this.loggedAt === undefined) {
      this.loggedAt = now;
      this.options.first(value);
      return;
    }
    this.unlogged += count;
    this.latest = value;
    const wait = this.loggedAt + this.options.intervalMs - now;
    if (wait <= 0) this.flush();
    // the summary is due even if nothing comes after this one; unref'd: it never holds the process
    else this.timer ??= setTimeout(() => this.flush(), wait).unref();
  }

  /** Report what is still unreported, and take no more. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { unlogged, latest } = this;
    if (unlogged === 0 || latest === undefined || this.closed) return;
    this.loggedAt = this.options.now();
    this.unlogged = 0;
    this.options.repeated(unlogged, latest);
  }
}

/**
 * One {@link ThrottledReport} per key (a plugin, say), made by `make` at the key's first
 * occurrence, so a noisy key cannot silence the others. Takes nothing once closed.
 */
export class ThrottledReports<T> {
  private readonly reports = new Map<string, ThrottledReport<T>>();
  private closed = false;

  constructor(private readonly make: (key: string) => ThrottledReport<T>) {}

  /** `count` more occurrences for `key`, `value` the newest. */
  add(key: string, value: T, count = 1): void {
    if (this.closed) return;
    let report = this.reports.get(key);
    if (!report) {
      report = this.make(key);
      this.reports.set(key, report);
    }
    report.add(value, count);
  }

  /** Report what every key still has unreported, and take no more. */
  close(): void {
    for (const report of this.reports.values()) report.close();
    this.closed = true;
  }
}
