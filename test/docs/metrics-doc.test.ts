/**
 * The metrics the documentation names are the ones `/metrics` exposes: operations.md's table of
 * every series matches the registry (names, types, labels), and every `relay_*` series any page
 * names, with the labels it gives, is registered. Dashboards and alerts are written from these
 * pages; a renamed metric or label would otherwise drift away from them unnoticed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Metrics } from '../../core/metrics/metrics.js';
import { API_ERROR_CODES } from '../../sidecar/agent-api/errors.js';
import { repoRoot } from '../helpers/repo-root.js';

/** The pages an operator reads (benchmarks.md holds historical measurements, not reference). */
const PAGES = [
  'README.md',
  ...['architecture', 'config', 'decisions', 'errors', 'operations', 'plugins', 'protocol'].map((name) =>
    join('docs', `${name}.md`),
  ),
];

const read = (page: string) => readFileSync(join(repoRoot(), page), 'utf8');

/** Every series the sidecar registers: name → type and label names. */
async function registered(): Promise<Map<string, { type: string; labels: string[] }>> {
  const metrics = new Metrics();
  const out = new Map<string, { type: string; labels: string[] }>();
  for (const { name, type } of await metrics.registry.getMetricsAsJSON()) {
    const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] };
    out.set(name, { type: String(type), labels: [...(metric.labelNames ?? [])].sort() });
  }
  return out;
}

test("operations.md's table of every series is the registry: names, types and labels", async (t) => {
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const m of read('docs/operations.md').matchAll(/^\| `(relay_[a-z_]+)` \| (\w+) \|([^|]*)\|/gm)) {
    const labels = [...(m[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((l) => l[1] ?? '').sort();
    rows.set(m[1] ?? '', { type: m[2] ?? '', labels });
  }
  t.deepEqual(Object.fromEntries(rows), Object.fromEntries(await registered()));
});

test('every relay_* series a page names is registered, with the labels it gives', async (t) => {
  const known = await registered();
  const apiCodes = new Set(Object.keys(API_ERROR_CODES));
  const wrong: string[] = [];
  let named = 0;
  for (const page of PAGES) {
    for (const m of read(page).matchAll(/`(relay_[a-z_]+)(?:\{([^}]*)\})?`/g)) {
      const name = m[1] ?? '';
      // the agent API's answer codes (relay_revoked, relay_not_connected) share the prefix
      if (apiCodes.has(name)) continue;
      named += 1;
      const series = known.get(name);
      if (!series) {
        wrong.push(`${page}: ${name} is not a metric`);
        continue;
      }
      const labels = (m[2] ?? '').split(',').map((l) => l.split('=')[0]?.trim() ?? '');
      for (const label of labels.filter((l) => l !== '')) {
        if (!series.labels.includes(label)) wrong.push(`${page}: ${name} has no label ${label}`);
      }
    }
  }
  t.true(named >= known.size, 'the pages name every series at least once');
  t.deepEqual(wrong, []);
});
