/**
 * The known name a typed one was meant to be (`SIDECAR_DATADIR`, `pingIntervalMS`, `inbond`), for
 * the "did you mean" of config, manifest and plugin messages. Pure; imports nothing, so any config
 * module may use it.
 */

/**
 * The name of `known` within a few edits of `name` (a typo: `SIDECAR_DATADIR`, `pingIntervalMS`),
 * if any; the first of equally close ones.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    // case is not an edit: `pingIntervalMS` is one slip, not two
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // a slip or two in a long name, one in a short one: more is another word (`bogus` is not `log`)
  const allowed = Math.max(1, Math.min(3, Math.floor(name.length / 4)));
  return bestDistance <= allowed ? best : undefined;
}

/**
 * Edit distance counting two neighbours swapped as one edit (optimal string alignment: `agnet` is
 * one slip from `agent`, where Levenshtein counts two). Names are short: the quadratic table is a
 * few hundred cells.
 */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
