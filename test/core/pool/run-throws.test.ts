/**
 * `piscina.run` can throw synchronously: it queues the task, then starts a worker for it, and
 * `new Worker` throws there (`ERR_WORKER_INIT_FAILED` where the host refuses a thread; here the
 * workers' data no longer clones). The pool failed the task and gave its progress slot back, but
 * piscina kept it queued and ran it later on the next free worker: the frame's hooks ran a second
 * time (it is redelivered), under no watchdog (a slot no longer its own), their reply dropped.
 * Now a worker runs no hook of a task whose slot the pool gave back (docs/decisions.md, "Worker
 * deaths"). Aborting it instead would reject a promise piscina never handed out: an unhandled
 * rejection, which ends the process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { PluginPool } from '../../../core/pool/plugin-pool.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { pluginModule } from '../../helpers/plugin-module.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { testConfig } from '../../helpers/test-config.js';
import { inbound } from './pool-harness.js';

test('a task piscina.run throws for runs no hook later, when piscina sends it to a worker after all', async (t) => {
  t.timeout(60_000);
  const dir = tempDir(t);
  const marks = join(dir, 'marks');
  // each event's text is appended to a file; `busy` holds the worker a second first
  const module = pluginModule(
    t,
    'marks',
    `import { appendFileSync } from 'node:fs';`,
    'inbound: async (input) => { const text = String(input.event.text);' +
      ' if (text === "busy") await new Promise((resolve) => setTimeout(resolve, 1_000));' +
      ` appendFileSync(${JSON.stringify(marks)}, text + "\\n"); return undefined; }`,
  );
  const options: Record<string, unknown> = {};
  const config = testConfig({ dataDir: dir, pool: { minThreads: 1, maxThreads: 2 } });
  const pool = new PluginPool({
    pool: config.pool,
    worker: {
      plugins: [{ name: 'marks', url: pathToFileURL(module).href, options }],
      identities: [],
      dbPath: join(dir, 'sidecar.db'),
    },
    log: createLogSink().logger,
    metrics: new Metrics(),
  });
  t.teardown(() => pool.close());
  t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
  const busy = pool.run([inbound(0, 'busy')]);
  // from now on a worker's start throws in piscina.run: its data (the plugin's options) does not clone
  options.poison = () => undefined;
  t.like((await pool.run([inbound(0, 'thrown')]))[0], { ok: false });
  delete options.poison;
  t.like((await busy)[0], { ok: true });
  t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
  t.true(existsSync(marks));
  t.deepEqual(readFileSync(marks, 'utf8').split('\n').filter(Boolean), ['before', 'busy', 'after']);
});
