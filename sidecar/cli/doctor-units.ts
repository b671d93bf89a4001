/**
 * `doctor`'s check of the unit slips a schema cannot refuse: a duration written in seconds where
 * the key takes ms (`agent.timeoutMs: 30` times every push attempt out after 30 ms, which then
 * reads as an agent that is down), or in ms where it takes seconds (`relay.tokenTtlS: 300000`).
 * Both are valid numbers; only their size against the key's default gives them away.
 */
import { validateConfig } from '../../core/config/load.js';
import type { Config } from '../../core/config/schema.js';
import { type CheckResult, warn } from './doctor-checks.js';

/** A ms key whose default is at least a second, set below this, was most likely meant in seconds. */
const MS_FLOOR = 100;
/** An s key set to this many times its default or more was most likely meant in ms. */
const S_FACTOR = 1000;

/** The keys whose value looks like the wrong unit, each with what was likely meant. */
export function unitSlips(config: Config): string[] {
  const defaults = validateConfig({}) as unknown as Record<string, unknown>;
  const slips: string[] = [];
  walk(config as unknown as Record<string, unknown>, defaults, [], slips);
  return slips;
}

function walk(
  node: Record<string, unknown>,
  defaults: Record<string, unknown>,
  path: string[],
  out: string[],
): void {
  for (const [key, value] of Object.entries(node)) {
    const fallback = defaults?.[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if (fallback && typeof fallback === 'object')
        walk(value as Record<string, unknown>, fallback as Record<string, unknown>, [...path, key], out);
      continue;
    }
    if (typeof value !== 'number' || typeof fallback !== 'number' || value === fallback) continue;
    const name = [...path, key].join('.');
    if (key.endsWith('Ms') && fallback >= 1000 && value > 0 && value < MS_FLOOR)
      out.push(`${name} is ${value} ms (default ${fallback}): if seconds were meant, write ${value * 1000}`);
    else if (key.endsWith('S') && value >= fallback * S_FACTOR)
      out.push(
        `${name} is ${value} s (default ${fallback}): if ms were meant, write ${Math.round(value / 1000)}`,
      );
  }
}

/** A warning listing each slip, or none (the start accepts them: never a failure, and no ✓ line). */
export function checkUnits(config: Config): CheckResult | undefined {
  const slips = unitSlips(config);
  if (slips.length === 0) return undefined;
  return warn(
    'units',
    slips.join('; '),
    "the unit is the key name's ending (…Ms ms, …S s, …Bytes bytes, …Mb MiB; docs/config.md): correct the value, or keep it if it is meant",
  );
}
