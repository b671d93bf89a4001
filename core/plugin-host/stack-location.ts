/**
 * Where in a plugin's code an error was raised, from its stack: `path:line` of the first frame
 * that passes a test (inside the module's directory; outside the sidecar's core). A location is a
 * path and a line, never source text, so it can go into a refusal, a log line or a dead letter.
 */
import { fileURLToPath } from 'node:url';

/** Longest location kept, characters (a deep install path is still a path). */
const MAX_LOCATION = 300;

/** `path:line` of the first `file:` frame of `err`'s stack whose URL `accept` takes, if any. */
export function stackLocation(err: unknown, accept: (url: string) => boolean): string | undefined {
  let stack = '';
  try {
    stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
  } catch {
    // a throwing `stack` getter: no location, the message still says what was thrown
  }
  for (const m of stack.matchAll(/(file:\/\/[^\s():]+):(\d+)/g)) {
    const url = m[1] as string;
    if (!accept(url)) continue;
    try {
      return `${fileURLToPath(url)}:${m[2]}`.slice(-MAX_LOCATION);
    } catch {
      // not a file URL Node can map (a host part): try the next frame
    }
  }
  return undefined;
}

/** The core's own files (`dist/core/`): frames there are the host calling the plugin. */
const CORE_DIR = new URL('../', import.meta.url).href;

/** `path:line` where a hook threw: the first frame outside the core, preferring one outside node_modules. */
export function hookLocation(err: unknown): string | undefined {
  const outsideCore = (url: string) => !url.startsWith(CORE_DIR);
  // a dependency the hook called (zod's parse) threw inside node_modules: the hook's own line first
  return (
    stackLocation(err, (url) => outsideCore(url) && !url.includes('/node_modules/')) ??
    stackLocation(err, outsideCore)
  );
}
