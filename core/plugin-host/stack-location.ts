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
  for (const m of frames(err).matchAll(/(file:\/\/[^\s():]+):(\d+)/g)) {
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

/**
 * The frame lines of `err`'s stack (`    at …`). The stack begins with the error's own text, so a
 * file URL the message names (a config path, a fetched resource) is no place it threw, and taken
 * for one it would bring back text past the message's cut: the header is dropped first.
 */
function frames(err: unknown): string {
  try {
    if (!(err instanceof Error) || typeof err.stack !== 'string') return '';
    const header = String(err);
    const body = err.stack.startsWith(header) ? err.stack.slice(header.length) : err.stack;
    return body
      .split('\n')
      .filter((line) => /^\s+at /.test(line))
      .join('\n');
  } catch {
    // a throwing `stack`, `name` or `message` getter: no location, the reason still says what
    return '';
  }
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
