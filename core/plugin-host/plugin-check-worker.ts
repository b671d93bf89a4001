/**
 * The short-lived thread that imports and checks the enabled plugins at start
 * (plugin-check-thread.ts starts it; docs/decisions.md, "Plugin isolation"). A module's top-level
 * code and its options schema run here, never on the thread that reads the socket. For each
 * plugin, in manifest order, it posts `loading` before the import and `options` before the
 * schema, so the main thread knows whom to blame when this thread stops answering, then the
 * plain-data verdict. The main thread terminates it once it has every verdict (or the first
 * refusal): whatever a module left running here (an interval, a socket) ends with it.
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import { ExitAttempt, replaceExits } from '../pool/exit-trap.js';
import { strayPlugin, strayReason } from '../pool/stray-errors.js';
import { type CheckRef, type CheckVerdict, checkModule, firstLine, loadFailure } from './plugin-check.js';

/** A message of the check thread to the main thread. */
export type CheckMessage =
  | { readonly k: 'loading'; readonly index: number }
  | { readonly k: 'options'; readonly index: number }
  | { readonly k: 'checked'; readonly index: number; readonly verdict: CheckVerdict };

/** `workerData` of the check thread. */
export interface CheckWorkerData {
  readonly plugins: readonly CheckRef[];
  /** The main thread's private channel (taken out of `workerData` before any module loads). */
  port?: MessagePort;
}

// a module that calls process.exit as it loads is refused with what it passed, instead of this
// thread just ending, and its timer's process.kill(process.pid) cannot end the sidecar; the thread
// is only for checking, so the patch stays for its whole life
replaceExits((call, code) => {
  throw new ExitAttempt(call, code);
});
/**
 * While a module loads: its index, and the first stray error (a throw in a callback, a rejection
 * nobody handles) that is its own — not one whose stack names another plugin's module, such as an
 * earlier module's timer. `undefined` outside that window: an error raised later must not end the
 * check of the modules after it; it is ignored here, and the pool's workers, which meet the same
 * module, catch and report it (stray-trap.ts).
 */
let loading: { readonly index: number; stray?: { readonly err: unknown } } | undefined;
const onStray = (err: unknown) => {
  if (!loading || loading.stray) return;
  const blamed = strayPlugin(err, urls);
  if (blamed === undefined || blamed === loading.index) loading.stray = { err };
};
process.on('uncaughtException', onStray);
process.on('unhandledRejection', onStray);

const data = workerData as CheckWorkerData;
const { plugins, port } = data;
const urls: readonly string[] = plugins.map((p) => p.url);
// a module can read workerData and parentPort, but not this port: it cannot post a verdict of its own
delete data.port;
// the open port keeps the thread alive after the last verdict, until the main thread ends it (an
// exit of its own could overtake the last verdict, which travels on another channel)
port?.on('message', () => undefined);

function post(message: CheckMessage): void {
  port?.postMessage(message);
}

// the core's public API, which every plugin imports, is loaded before the first plugin's clock
// starts: the load limit is the plugin's own code, not the core's
await import('../index.js');

for (const [index, ref] of plugins.entries()) {
  post({ k: 'loading', index });
  const verdict = await check(ref, index, () => post({ k: 'options', index }));
  post({ k: 'checked', index, verdict });
  if (!verdict.ok) break;
}

async function check(ref: CheckRef, index: number, parsing: () => void): Promise<CheckVerdict> {
  let mod: { default?: unknown };
  loading = { index };
  try {
    mod = (await import(ref.url)) as { default?: unknown };
  } catch (err) {
    loading = undefined;
    return err instanceof ExitAttempt
      ? exited(err)
      : loadFailed(`the module failed to load: ${loadFailure(err, ref.url)}`);
  }
  const stray = await strayWhileLoading();
  if (stray?.err instanceof ExitAttempt) return exited(stray.err);
  if (stray) {
    return loadFailed(
      'a callback or promise the module started while loading threw and nothing caught it ' +
        `(${strayReason(stray.err)}): catch errors inside callbacks and handle every promise`,
    );
  }
  parsing();
  try {
    return checkModule(mod, ref);
  } catch (err) {
    // a getter or a Proxy in the export that throws as it is read
    return loadFailed(`reading the export threw: ${firstLine(err)}`);
  }
}

/**
 * The loading module's first stray error, deterministically: what was thrown while its import
 * settled, a rejection it left unhandled (node reports those once the microtasks drain) and a
 * throw in a `setImmediate` it queued (those run before this one). A timer that fires later is the
 * pool workers' to report.
 */
async function strayWhileLoading(): Promise<{ readonly err: unknown } | undefined> {
  await new Promise((resolve) => setImmediate(resolve));
  const stray = loading?.stray;
  loading = undefined;
  return stray;
}

function exited(err: ExitAttempt): CheckVerdict {
  return loadFailed(
    `the module called ${err.call} while loading: a plugin must never end the process; return a ` +
      'verdict or throw instead',
  );
}

function loadFailed(problem: string): CheckVerdict {
  return { ok: false, code: 'CORE_ERR_PLUGIN_LOAD_FAILED', problem };
}
