/**
 * Node's own ESM resolution of package specifiers from a given parent URL (spec/plugins.md:
 * `module` may be "an installed package name", resolved as the `import()` that loads it would).
 *
 * Neither resolver Node 20 offers on this thread fits: `createRequire().resolve` is CommonJS and
 * matches only the "require"/"default" export conditions (an ESM-only package, `"exports":
 * {"import": …}`, fails), and `import.meta.resolve` ignores a parent URL unless the thread was
 * started with `--experimental-import-meta-resolve`. That flag is accepted per worker thread, so
 * one short-lived worker started with it resolves a whole manifest's specifiers (~40 ms, once
 * per start); it checks that the parent URL is honoured before it answers.
 */
import { Worker } from 'node:worker_threads';

/** How long one resolver thread may take to answer, ms (a thread start and a few file reads). */
export const RESOLVE_TIMEOUT_MS = 10_000;

/** The flag that lets `import.meta.resolve` take a parent URL (Node ≥ 20.6). */
export const IMPORT_META_RESOLVE_FLAG = '--experimental-import-meta-resolve';

/** What the resolver thread is given. */
export interface EsmResolveRequest {
  readonly specifiers: readonly string[];
  /** The URL the specifiers are resolved from (e.g. the manifest file's). */
  readonly parentUrl: string;
}

/** One specifier's answer: the resolved URL, or Node's error (`CODE: message`). */
export type EsmResolution = { readonly url: string } | { readonly error: string };

/**
 * Resolve `specifiers` from `parentUrl` with Node's ESM resolver (the conditions of an `import`:
 * "node", "import", "default"), in order. Rejects only when the resolver thread fails as a whole
 * (cannot start, dies, or does not answer within `timeoutMs`); a specifier that does not resolve
 * is an `error` answer.
 */
export function esmResolveAll(
  specifiers: readonly string[],
  parentUrl: string,
  timeoutMs = RESOLVE_TIMEOUT_MS,
): Promise<EsmResolution[]> {
  if (specifiers.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const request: EsmResolveRequest = { specifiers: [...specifiers], parentUrl };
    let worker: Worker;
    try {
      // execArgv replaces the inherited flags: the worker gets this one flag only
      worker = new Worker(new URL('./esm-resolve-worker.js', import.meta.url), {
        execArgv: [IMPORT_META_RESOLVE_FLAG],
        workerData: request,
      });
    } catch (err) {
      reject(err);
      return;
    }
    let settled = false;
    const settle = (outcome: EsmResolution[] | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    // the worker itself keeps the process alive until it answers; the timer must not
    const timer = setTimeout(
      () => settle(new Error(`the module resolver did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    ).unref();
    worker.once('message', (answers: EsmResolution[] | { readonly failed: string }) =>
      settle(Array.isArray(answers) ? answers : new Error(answers.failed)),
    );
    worker.once('error', (err) => settle(err));
    worker.once('exit', (code) =>
      settle(new Error(`the module resolver exited (code ${code}) without answering`)),
    );
  });
}
