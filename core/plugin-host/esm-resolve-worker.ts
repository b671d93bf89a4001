/**
 * Worker entry of `esmResolveAll` (esm-resolve.ts): started with `--experimental-import-meta-resolve`,
 * it resolves each specifier with `import.meta.resolve(specifier, parentUrl)` and posts the answers
 * back once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EsmResolution, EsmResolveRequest } from './esm-resolve.js';

const { specifiers, parentUrl } = workerData as EsmResolveRequest;

// Without the flag, Node ignores the parent URL and resolves from this file instead: a package
// found from here would be a silently wrong answer, so check that the parent is honoured first.
const PROBE_PARENT = 'file:///relay-sidecar-probe/parent.js';
if (import.meta.resolve('./probe.js', PROBE_PARENT) !== 'file:///relay-sidecar-probe/probe.js') {
  parentPort?.postMessage({ failed: 'this Node ignores the parent URL of import.meta.resolve' });
} else {
  parentPort?.postMessage(specifiers.map((specifier) => resolveOne(specifier)));
}

function resolveOne(specifier: string): EsmResolution {
  try {
    return { url: import.meta.resolve(specifier, parentUrl) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = err instanceof Error ? err.message : String(err);
    return { error: code ? `${code}: ${message}` : message };
  }
}
