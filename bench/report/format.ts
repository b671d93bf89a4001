/** Number formatting for the report: medians with their spread, rates, milliseconds, ratios. */
import { spread } from '../lib/stats.js';

/** `12 345` (thin grouping, no decimals). */
export function int(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US').replaceAll(',', ' ') : '–';
}

/** `1.23` ms-style value with adaptive decimals. */
export function dec(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

/** `45 %`. */
export function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %` : '–';
}

/** `median (min–max)` of `values` formatted with `f`; just the value for a single run. */
export function med(values: readonly number[], f: (v: number) => string = dec): string {
  const s = spread(values);
  return values.length <= 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  return spread(values).median;
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `met` / `missed` with how far from the target. */
export function verdict(ok: boolean, detail: string): string {
  return `${ok ? '**met**' : '**missed**'} (${detail})`;
}
