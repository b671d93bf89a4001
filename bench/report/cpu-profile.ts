/**
 * Read a V8 `.cpuprofile` (written by `node --cpu-prof`) and rank functions by self time and by
 * total (inclusive) time, so a profile can be summarised in the report without a browser.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** One function's share of the profile. */
export interface HotFunction {
  readonly name: string;
  /** `file:line` relative to the repository where possible. */
  readonly where: string;
  readonly selfMs: number;
  readonly selfPct: number;
  readonly totalMs: number;
  readonly totalPct: number;
}

/** A summarised profile. */
export interface ProfileSummary {
  readonly file: string;
  /** Sampled time, ms (idle excluded from the percentages). */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly bySelf: HotFunction[];
  readonly byTotal: HotFunction[];
}

const key = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url}:${n.callFrame.lineNumber + 1}`;

/** Summarise `file`, keeping the `top` functions of each ranking. */
export function summariseProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    self.set(key(node), (self.get(key(node)) ?? 0) + us);
    // inclusive time: count each distinct function once per stack
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => hot(k, self.get(k) ?? 0, total.get(k) ?? 0, busy));
  return { file, busyMs: busy / 1000, idleMs: idle / 1000, bySelf: rank(self), byTotal: rank(total) };
}

function hot(k: string, selfUs: number, totalUs: number, busyUs: number): HotFunction {
  const space = k.indexOf(' ');
  const where = k.slice(space + 1).replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  return {
    name: k.slice(0, space),
    where,
    selfMs: selfUs / 1000,
    selfPct: (100 * selfUs) / busyUs,
    totalMs: totalUs / 1000,
    totalPct: (100 * totalUs) / busyUs,
  };
}
