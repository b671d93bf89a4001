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
  // a slip or two in a long name, one in a short one: more is another word (`bogus` is not `log`)
  const allowed = Math.max(1, Math.min(3, Math.floor(name.length / 4)));
  const typed = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of known) {
    // names further apart in length than the closest so far are further apart in edits: skipped
    // unread, as is the rest of a table past it (a map of 2 000 entries against 2 000 platforms
    // took ~10 s to compare whole)
    const limit = bestDistance - 1;
    if (Math.abs(candidate.length - name.length) > limit) continue;
    // case is not an edit: `pingIntervalMS` is one slip, not two
    const d = distance(typed, candidate.toLowerCase(), limit);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Edit distance counting two neighbours swapped as one edit (optimal string alignment: `agnet` is
 * one slip from `agent`, where Levenshtein counts two); `limit + 1` as soon as it is known to be
 * more than `limit` (two rows in a row all past it: no later cell can come back under).
 */
function distance(a: string, b: string, limit: number): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  // the least cell of the row before (row 0 starts at 0)
  let prevLeast = 0;
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    let least = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
      if (d < least) least = d;
    }
    // a cell comes from the row before (at most 0 added) or the one before that (1 added)
    if (least > limit && prevLeast > limit) return limit + 1;
    prevLeast = least;
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
