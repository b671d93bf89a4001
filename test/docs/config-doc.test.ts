import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { z } from 'zod';
import { ENV_BINDINGS, IDENTITY_ENV } from '../../core/config/env-map.js';
import { ConfigSchema } from '../../core/config/schema.js';
import { repoRoot } from '../helpers/repo-root.js';

const doc = readFileSync(join(repoRoot(), 'docs', 'config.md'), 'utf8');
const defaults = ConfigSchema.parse({}) as Record<string, unknown>;

/** Every leaf key of the schema as `section.key` (or `key` at the top), with its default. */
function leaves(): { path: string; def: unknown }[] {
  const out: { path: string; def: unknown }[] = [];
  for (const [section, schema] of Object.entries(ConfigSchema.shape)) {
    const inner = ((schema as z.ZodDefault).def.innerType ?? schema) as z.ZodType & {
      shape?: Record<string, unknown>;
    };
    if (!inner.shape) {
      out.push({ path: section, def: defaults[section] });
      continue;
    }
    for (const key of Object.keys(inner.shape)) {
      out.push({ path: `${section}.${key}`, def: (defaults[section] as Record<string, unknown>)[key] });
    }
  }
  return out;
}

function rowOf(path: string): string | undefined {
  return doc.split('\n').find((line) => line.startsWith(`| \`${path}\` |`));
}

for (const { path, def } of leaves()) {
  test(`docs/config.md documents ${path} with its default`, (t) => {
    const row = rowOf(path);
    t.truthy(row, `no table row for \`${path}\``);
    const shown = def === undefined ? '—' : `\`${JSON.stringify(def)}\``;
    t.true(row?.includes(shown), `row for ${path} must show default ${shown}`);
  });
}

test('docs/config.md names every environment variable', (t) => {
  for (const name of [...ENV_BINDINGS.map((b) => b.env), ...IDENTITY_ENV, 'SIDECAR_CONFIG']) {
    t.true(doc.includes(`\`${name}\``), name);
  }
});

test('the README configuration table names only real variables', (t) => {
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Integrating an agent'));
  const known = new Set<string>([...ENV_BINDINGS.map((b) => b.env), ...IDENTITY_ENV, 'SIDECAR_CONFIG']);
  const named = [...section.matchAll(/`([A-Z][A-Z0-9_]{3,})`/g)].map((m) => m[1] ?? '');
  t.true(named.length >= 10);
  t.deepEqual(
    named.filter((n) => !known.has(n)),
    [],
  );
});
