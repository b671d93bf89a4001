/**
 * V8 settings the sidecar runs with, applied on import: `main.ts` imports this module first, so
 * they are in place before any hot code has run. Each is left alone when node's own command line
 * already sets it (`node --allocation-site-pretenuring …`); neither is accepted in `NODE_OPTIONS`.
 *
 * `--no-allocation-site-pretenuring`: V8 allocates objects of an allocation site straight into
 * the old generation once most of them survived a young-generation GC. Under the sidecar's steady
 * event flow that decision backfires: a pretenured object dies young but stays until the next full
 * GC, and everything it points to (the event it was built from) survives every scavenge until then
 * and is promoted. Measured in the running sidecar at 100 and 1 000 events/s: 583 → 167 KB and
 * 783 → 294 KB promoted per scavenge.
 *
 * `--heap-growing-percent=50`: after a full GC the old generation may grow to 1.5× what survived
 * (V8 otherwise picks up to 4× at a high allocation rate). The sidecar's live heap is small
 * (~40 MiB), so this bounds the garbage it carries: RSS under load 269–272 → 213–217 MiB peak in
 * quick runs, throughput within the noise (`docs/benchmarks.md`, Memory).
 */
import { setFlagsFromString } from 'node:v8';

/** Each flag the sidecar sets, with the V8 option it sets (to spot an operator's own choice). */
const SIDECAR_V8_FLAGS = [
  { option: 'allocation-site-pretenuring', flag: '--no-allocation-site-pretenuring' },
  { option: 'heap-growing-percent', flag: '--heap-growing-percent=50' },
] as const;

/** The flags to set, given node's own command-line flags (`process.execArgv`). */
export function sidecarV8Flags(execArgv: readonly string[]): string[] {
  const chosen = (option: string) =>
    execArgv.some((arg) => {
      // V8 reads `_` and `-` alike, and `--no-x` sets option `x`
      const name = arg
        .split('=', 1)[0]
        ?.replaceAll('_', '-')
        .replace(/^--(no-)?/, '');
      return name === option;
    });
  return SIDECAR_V8_FLAGS.filter((f) => !chosen(f.option)).map((f) => f.flag);
}

for (const flag of sidecarV8Flags(process.execArgv)) setFlagsFromString(flag);
