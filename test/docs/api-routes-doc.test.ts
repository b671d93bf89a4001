/**
 * Every route of the agent API's table is named in README.md with its method, and every
 * `METHOD /path` the README names is a route. The README's list is what an agent author reads
 * (the shared spec does not know the sidecar's own dead-letter routes); it had left out pull
 * mode's two routes and the three dead-letter ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { buildRoutes, type RouteEnv } from '../../sidecar/agent-api/routes.js';
import { repoRoot } from '../helpers/repo-root.js';

/** The real table; building it runs no handler, so the parts it is given are never called. */
function routeTable(): string[] {
  const env = {
    deps: { config: { agent: { mode: 'pull' } }, pull: {}, inbox: {} },
    pipeline: {},
    streams: {},
    now: () => 0,
    startedAtMs: 0,
  } as unknown as RouteEnv;
  // `:name` parameters are written `{name}` in the docs
  return buildRoutes(env).map((r) => `${r.method} ${r.pattern.replace(/:([a-z_]+)/g, '{$1}')}`);
}

const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8').replace(/\s+/g, ' ');

test('README.md names every agent API route with its method', (t) => {
  const routes = routeTable();
  t.true(routes.length >= 13);
  t.deepEqual(
    routes.filter((route) => !readme.includes(`\`${route}\``)),
    [],
  );
});

test('every `METHOD /path` README.md names is a route', (t) => {
  const routes = new Set(routeTable());
  const named = [...readme.matchAll(/`((?:GET|POST|PUT|DELETE|PATCH) \/[^`\s]*)`/g)].map((m) => m[1] ?? '');
  t.deepEqual(
    named.filter((route) => !routes.has(route)),
    [],
  );
});
