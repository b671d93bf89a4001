/**
 * Stray errors of plugin code: an exception thrown by a timer, an interval or a callback a plugin
 * left running, or a rejection nobody handles, outside any hook call (docs/decisions.md, "Stray
 * errors"). They reach no task, so they are told apart here by where they come from: the stack
 * frames are matched against the plugin modules' file URLs. Pure functions, tested alone; the pool
 * workers (stray-trap.ts) and the start-up check thread use them.
 */
import { errorMessage, scrubUrls } from '../errors.js';
import { SecretMatcher } from '../secret-matcher.js';

/** Plugin label of a stray error no module can be blamed for: no plugin name has parentheses (manifest.ts), as with the store metrics' `(other)`. */
export const UNKNOWN_PLUGIN = '(unknown)';

/** How a stray error reached the thread. */
export type StrayOrigin = 'exception' | 'rejection';

/**
 * What a pool worker tells the main thread of one plugin's stray errors: the first one at once,
 * then the count since the last report (stray-trap.ts). Plain data on the worker's `parentPort`.
 */
export interface StrayReport {
  readonly k: 'relay-stray-error';
  /** A configured plugin name, or {@link UNKNOWN_PLUGIN}. */
  readonly plugin: string;
  /** Stray errors of this plugin since the worker's last report, ≥ 1. */
  readonly count: number;
  /** The latest one's first line, URLs removed. */
  readonly reason: string;
  readonly origin: StrayOrigin;
}

/** The directory of this build's `core/`: frames there are the core's own, never a plugin's. */
const CORE_URL = new URL('../', import.meta.url).href;

/** The stack frames of `err` (`at …` lines), or none; a hostile error cannot make this throw. */
function framesOf(err: unknown): string[] {
  try {
    const stack = (err as { stack?: unknown } | null)?.stack;
    if (typeof stack !== 'string') return [];
    return stack.split('\n').filter((line) => /^\s+at /.test(line));
  } catch {
    return [];
  }
}

/**
 * Index of the plugin (in `urls`, the modules' `file:` URLs) that `err` came from: the innermost
 * stack frame in a plugin's module file, or else in the directory of a plugin's module (a package
 * plugin's other files) when no other plugin's module lives in that directory tree and the frame
 * is neither the core's nor in a `node_modules` below it. `undefined` when no frame tells.
 */
export function strayPlugin(err: unknown, urls: readonly string[]): number | undefined {
  const frames = framesOf(err);
  for (const frame of frames) {
    // `:` follows the file in a frame (line and column): `a.js` is not `a.json`
    const index = urls.findIndex((url) => frame.includes(`${url}:`));
    if (index >= 0) return index;
  }
  const dirs = urls.map((url) => url.slice(0, url.lastIndexOf('/') + 1));
  for (const frame of frames) {
    const file = /(file:\/\/\S+?):\d+:\d+\)?$/.exec(frame)?.[1];
    if (!file || file.startsWith(CORE_URL)) continue;
    const owners = dirs.flatMap((dir, i) =>
      // from the directory's own slash on: a dependency installed below it may be shared
      file.startsWith(dir) && !file.slice(dir.length - 1).includes('/node_modules/') ? [i] : [],
    );
    // a shared directory (plugins side by side) blames nobody rather than the wrong one
    const [only] = owners;
    if (owners.length === 1 && only !== undefined && uniqueDir(dirs, only)) return only;
  }
  return undefined;
}

/** No other plugin's module lies in the directory tree of plugin `index`'s module. */
function uniqueDir(dirs: readonly string[], index: number): boolean {
  const dir = dirs[index] as string;
  return dirs.every((other, i) => i === index || !other.startsWith(dir));
}

/** Longest reason kept, characters (the first line, URLs replaced by `[url]`). */
export const MAX_STRAY_REASON = 200;
/** No known secret (the start-up check thread): a key-like path segment is still taken out. */
const NO_SECRETS = new SecretMatcher([]);
/** Characters of the first line searched for secrets (a secret cut there is still found by its start). */
const MAX_STRAY_SEARCH = 4_096;

/**
 * The first line of what a stray error says (`Name: message` for an Error), without `secrets` (the
 * worker's recent tasks' credentials: recent-secrets.ts) and with every URL replaced — a URL may
 * carry a credential in its userinfo, path or query — at most {@link MAX_STRAY_REASON}
 * characters. Never throws, whatever was thrown.
 */
export function strayReason(err: unknown, secrets?: SecretMatcher): string {
  let text: string;
  try {
    text = err instanceof Error ? `${err.name}: ${err.message}` : errorMessage(err);
  } catch {
    text = `a value that cannot be printed (${typeof err})`;
  }
  const line = (text.split('\n', 1)[0] ?? '').slice(0, MAX_STRAY_SEARCH);
  return scrubUrls((secrets ?? NO_SECRETS).redact(line)).slice(0, MAX_STRAY_REASON);
}

/** Is `message` a {@link StrayReport} (anything may arrive on a worker's port: plugins post there too)? */
export function isStrayReport(message: unknown): message is StrayReport {
  const m = message as Partial<StrayReport> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.k === 'relay-stray-error' &&
    typeof m.plugin === 'string' &&
    typeof m.reason === 'string' &&
    (m.origin === 'exception' || m.origin === 'rejection') &&
    Number.isSafeInteger(m.count) &&
    (m.count as number) > 0
  );
}
