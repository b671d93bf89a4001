/**
 * A host that refuses threads at the sidecar's start (RLIMIT_NPROC, for real:
 * test/helpers/thread-limit.ts): the start fails, and its error says so, not that the plugins
 * failed to load (`CORE_ERR_PLUGIN_LOAD_FAILED` "plugins failed to load in the worker pool: Error:
 * EAGAIN" blamed plugins that were never run).
 */
import { fileURLToPath } from 'node:url';
import { startLimitedChild, withThreadLimit } from '../../helpers/thread-limit.js';

const CHILD = fileURLToPath(new URL('../../fixtures/pool/thread-limited-start.js', import.meta.url));

for (const [command, first] of [
  ['start', 'the plugin check thread'],
  ['start-unchecked', "the plugin pool's first worker"],
] as const) {
  withThreadLimit(
    `threads refused at start (${command}): the start fails as a refused worker start, naming what to do`,
    async (t) => {
      t.timeout(60_000);
      const child = await startLimitedChild(t, CHILD);
      child.limit(true);
      const ended = await child.send(command);
      t.is(ended.code, 'CORE_ERR_PLUGIN_WORKER_START_FAILED', JSON.stringify(ended));
      t.true(String(ended.message).startsWith(`${first} could not start`), String(ended.message));
      t.regex(String(ended.message), /refused a new thread.*pool\.maxThreads/);
    },
  );
}
