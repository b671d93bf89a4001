/**
 * The outcome of one chaos soak and its text form (what `npm run soak` prints and the CI test
 * logs).
 */

/** The outcome. */
export interface SoakReport {
  readonly seed: number;
  readonly mode: 'push' | 'pull';
  readonly passed: boolean;
  /** Invariant violations, one line each (empty ⇒ passed). */
  readonly violations: string[];
  /** What happened: counts of events, faults, lives, deliveries. */
  readonly stats: Record<string, number>;
  /** Notes that are not violations (documented non-guarantees that showed up, …). */
  readonly notes: string[];
  /** The fault schedule as it ran (ms since start, fault). */
  readonly faults: string[];
}

/** A report as text: the verdict, every count, the first 50 violations and 20 distinct notes. */
export function formatReport(r: SoakReport): string {
  const out = [
    `soak seed ${r.seed} mode ${r.mode}: ${r.passed ? 'PASS' : `FAIL (${r.violations.length} violations)`}`,
  ];
  const keys = Object.keys(r.stats).sort();
  out.push(`  ${keys.map((k) => `${k}=${r.stats[k]}`).join(' ')}`);
  for (const v of r.violations.slice(0, 50)) out.push(`  VIOLATION ${v}`);
  if (r.violations.length > 50) out.push(`  … ${r.violations.length - 50} more`);
  for (const n of [...new Set(r.notes)].slice(0, 20)) out.push(`  note ${n}`);
  return out.join('\n');
}
