/**
 * The ESM resolver thread: answers in order, refuses to answer when Node would ignore the parent
 * URL, and is bounded in time.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { type EsmResolution, esmResolveAll } from '../../../core/plugin-host/esm-resolve.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { installFixturePackages } from './fixture-host.js';

test('specifiers are resolved from the parent URL, in order, each with its answer', async (t) => {
  const dir = tempDir(t);
  installFixturePackages(dir);
  const answers = await esmResolveAll(
    ['dual-package', 'no-such-package', 'esm-only-plugin'],
    pathToFileURL(join(dir, 'plugins.json')).href,
  );
  t.is(
    fileURLToPath((answers[0] as { url: string }).url),
    join(dir, 'node_modules', 'dual-package', 'index.mjs'),
  );
  t.regex((answers[1] as { error: string }).error, /^ERR_MODULE_NOT_FOUND: /);
  t.is(
    fileURLToPath((answers[2] as { url: string }).url),
    join(dir, 'node_modules', 'esm-only-plugin', 'index.js'),
  );
});

test('nothing to resolve starts no thread', async (t) => {
  t.deepEqual(await esmResolveAll([], 'file:///x/plugins.json', 1), []);
});

test('a resolver thread that does not answer in time is a rejection', async (t) => {
  const err = await t.throwsAsync(esmResolveAll(['dual-package'], 'file:///x/plugins.json', 1));
  t.regex(err?.message ?? '', /did not answer within 1 ms/);
});

test('without the flag the worker refuses to answer rather than resolve from its own location', async (t) => {
  const entry = join(repoRoot(), 'dist', 'core', 'plugin-host', 'esm-resolve-worker.js');
  // relay-sidecar/core resolves from the worker's own file: a wrong answer, were it given
  const worker = new Worker(entry, {
    execArgv: [],
    workerData: { specifiers: ['relay-sidecar/core'], parentUrl: 'file:///nowhere/plugins.json' },
  });
  t.teardown(() => worker.terminate());
  const answer = await new Promise<EsmResolution[] | { failed: string }>((resolve) =>
    worker.once('message', resolve),
  );
  t.like(answer, { failed: 'this Node ignores the parent URL of import.meta.resolve' });
});
