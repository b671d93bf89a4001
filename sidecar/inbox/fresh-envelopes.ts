/**
 * Envelopes of rows this process has just committed, kept in memory until their first attempt
 * so that attempt starts without reading the row back (its saved attempt count is 0 by
 * construction). Bounded by bytes, oldest dropped first; a row not found here is read from the
 * store as before, so the cache only ever saves work.
 */

/** Default memory budget, bytes of envelope text (UTF-16 code units × 2, as V8 holds them). */
export const FRESH_ENVELOPES_MAX_BYTES = 8 * 1024 * 1024;

/** A byte-bounded, insertion-ordered map of delivery id → stored envelope JSON. */
export class FreshEnvelopes {
  private readonly entries = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes = FRESH_ENVELOPES_MAX_BYTES) {}

  /** Keep the envelopes of rows that are committed (never before: a rolled-back row must not be sent). */
  add(ids: readonly { readonly id: string }[], envelopes: readonly string[]): void {
    for (const [i, row] of ids.entries()) {
      const envelope = envelopes[i];
      if (envelope === undefined || this.entries.has(row.id)) continue;
      this.entries.set(row.id, envelope);
      this.bytes += envelope.length * 2;
    }
    if (this.bytes <= this.maxBytes) return;
    for (const [id, envelope] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= envelope.length * 2;
    }
  }

  /** The envelope of `id`, removed from the cache; undefined when not (or no longer) held. */
  take(id: string): string | undefined {
    const envelope = this.entries.get(id);
    if (envelope !== undefined) {
      this.entries.delete(id);
      this.bytes -= envelope.length * 2;
    }
    return envelope;
  }

  /** Envelopes held. */
  get size(): number {
    return this.entries.size;
  }
}
