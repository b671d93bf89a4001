/**
 * A set of 128-bit key fingerprints (the first 16 bytes of a key's SHA-256) in one typed array:
 * open addressing with linear probing, deletion by backward shift, doubling past 80 % full. It
 * answers "seen this dedupe key?" without a SQLite lookup and without one JS object per key (a
 * `Set<string>` of 200 000 keys would add ~20 MB of old-generation objects for every major GC to
 * mark; this holds them in 16 bytes a slot, outside the collector's view).
 *
 * Two different keys share a fingerprint with probability ~n / 2^128 (n keys held): below 10^-32
 * at the default 200 000, and SHA-256 makes crafting one impractical.
 */
import { hash } from 'node:crypto';

/** Bytes of a fingerprint. */
const FP_BYTES = 16;
/** Uint32 words per slot. */
const WORDS = FP_BYTES / 4;
/** Slots of a new set (it doubles as it fills). */
const INITIAL_SLOTS = 1024;

/** A key's fingerprint: the first 16 bytes of its SHA-256, as four words. */
export type Fingerprint = readonly [number, number, number, number];

/** The fingerprint of `key`. Never all zero (an all-zero slot is empty). */
export function fingerprint(key: string): Fingerprint {
  const digest = hash('sha256', key, 'buffer');
  const w0 = digest.readUInt32LE(0);
  const w1 = digest.readUInt32LE(4);
  const w2 = digest.readUInt32LE(8);
  const w3 = digest.readUInt32LE(12);
  return (w0 | w1 | w2 | w3) === 0 ? [1, 0, 0, 0] : [w0, w1, w2, w3];
}

/** An open-addressing set of fingerprints. */
export class FingerprintSet {
  private table = new Uint32Array(INITIAL_SLOTS * WORDS);
  private mask = INITIAL_SLOTS - 1;
  private count = 0;

  /** Fingerprints held. */
  get size(): number {
    return this.count;
  }

  /** Bytes of the table (what the set costs in memory). */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** True when `fp` is held. */
  has(fp: Fingerprint): boolean {
    return this.find(fp) >= 0;
  }

  /** Add `fp`; false when it was already held. */
  add(fp: Fingerprint): boolean {
    if (this.find(fp) >= 0) return false;
    if ((this.count + 1) * 5 > (this.mask + 1) * 4) this.grow();
    this.place(this.table, this.mask, fp);
    this.count += 1;
    return true;
  }

  /** Remove `fp`; false when it was not held. */
  delete(fp: Fingerprint): boolean {
    let hole = this.find(fp);
    if (hole < 0) return false;
    const t = this.table;
    const mask = this.mask;
    // backward shift: move later members of the probe run into the hole, so no search ever
    // stops early at it (linear probing needs no tombstones this way)
    for (let j = (hole + 1) & mask; !this.empty(j); j = (j + 1) & mask) {
      const home = (t[j * WORDS] as number) & mask;
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (!movable) continue;
      t.copyWithin(hole * WORDS, j * WORDS, j * WORDS + WORDS);
      hole = j;
    }
    t.fill(0, hole * WORDS, hole * WORDS + WORDS);
    this.count -= 1;
    return true;
  }

  /** The slot holding `fp`, or -1. */
  private find(fp: Fingerprint): number {
    const t = this.table;
    const mask = this.mask;
    for (let i = fp[0] & mask; ; i = (i + 1) & mask) {
      const at = i * WORDS;
      if (t[at] === fp[0] && t[at + 1] === fp[1] && t[at + 2] === fp[2] && t[at + 3] === fp[3]) return i;
      if (this.empty(i)) return -1;
    }
  }

  private empty(slot: number): boolean {
    const t = this.table;
    const at = slot * WORDS;
    return (t[at]! | t[at + 1]! | t[at + 2]! | t[at + 3]!) === 0;
  }

  private place(t: Uint32Array, mask: number, fp: Fingerprint | Uint32Array): void {
    let i = (fp[0] as number) & mask;
    while ((t[i * WORDS]! | t[i * WORDS + 1]! | t[i * WORDS + 2]! | t[i * WORDS + 3]!) !== 0)
      i = (i + 1) & mask;
    t.set(fp, i * WORDS);
  }

  private grow(): void {
    const old = this.table;
    const slots = (this.mask + 1) * 2;
    const next = new Uint32Array(slots * WORDS);
    for (let at = 0; at < old.length; at += WORDS) {
      const fp = old.subarray(at, at + WORDS);
      if ((fp[0]! | fp[1]! | fp[2]! | fp[3]!) !== 0) this.place(next, slots - 1, fp);
    }
    this.table = next;
    this.mask = slots - 1;
  }
}
