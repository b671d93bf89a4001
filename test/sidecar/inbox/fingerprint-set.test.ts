/**
 * The in-memory dedupe lookup: a fingerprint set checked against a plain `Set` over thousands of
 * random operations, including probe runs that wrap around the end of the table and deletions
 * in the middle of a run (backward shift), and growth.
 */
import test from 'ava';
import { type Fingerprint, FingerprintSet, fingerprint } from '../../../sidecar/inbox/fingerprint-set.js';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return (r ^ (r >>> 14)) >>> 0;
  };
}

test('fingerprints are the first 16 bytes of SHA-256, stable, never all zero, apart for near keys', (t) => {
  const a = fingerprint('evt:discord:C1:m1');
  t.deepEqual(fingerprint('evt:discord:C1:m1'), a);
  t.notDeepEqual(fingerprint('evt:discord:C1:m2'), a);
  // sha256('abc') = ba7816bf 8f01cfea 414140de 5dae2223 ...
  t.deepEqual(fingerprint('abc'), [0xbf1678ba, 0xeacf018f, 0xde404141, 0x2322ae5d]);
  t.true(a.some((w) => w !== 0));
});

test('the set agrees with a plain Set through random adds and deletes, growth included', (t) => {
  const next = prng(7);
  const set = new FingerprintSet();
  const model = new Set<string>();
  // first words with few distinct low bits, half of them homed at the very end of the table at
  // any size: probe runs are long and wrap around past the last slot
  const pool: Fingerprint[] = Array.from({ length: 6000 }, (_, i) => [
    i % 2 === 0 ? (next() & 0x3ff) | 1 : (0xffffffff - (next() & 0x1f)) >>> 0,
    next(),
    next(),
    next(),
  ]);
  for (let op = 0; op < 60_000; op++) {
    const fp = pool[next() % pool.length] as Fingerprint;
    const k = fp.join(',');
    const roll = next() % 10;
    if (roll < 6) {
      const fresh = !model.has(k);
      model.add(k);
      t.is(set.add(fp), fresh);
    } else if (roll < 9) t.is(set.delete(fp), model.delete(k));
    else t.is(set.has(fp), model.has(k));
    if (set.size !== model.size) t.fail(`size ${set.size} vs ${model.size} after op ${op}`);
  }
  for (const fp of pool) if (set.has(fp) !== model.has(fp.join(','))) t.fail(`disagree on ${fp}`);
  t.true(set.bytes * 0.8 >= set.size * 16, 'at most 80 % full');
});

test('a run that wraps past the last slot keeps every member findable after a delete', (t) => {
  const set = new FingerprintSet(); // 1 024 slots: homes 1022 and 1023 fill 1022, 1023, 0, 1
  const fps: Fingerprint[] = [1022, 1023, 1022, 1023].map((home, i) => [home, i + 1, 0, 0]);
  for (const fp of fps) t.true(set.add(fp));
  t.true(set.delete(fps[0] as Fingerprint)); // slot 0 moves back to 1022, slot 1 to slot 0
  t.deepEqual(
    fps.map((fp) => set.has(fp)),
    [false, true, true, true],
  );
  t.true(set.delete(fps[1] as Fingerprint));
  t.deepEqual(
    fps.map((fp) => set.has(fp)),
    [false, false, true, true],
  );
  t.is(set.size, 2);
});
