/**
 * The credentials a pool worker's recent tasks handed its plugins, for its stray errors
 * (stray-trap.ts). A stray error belongs to no task, so the main thread's redaction of a reply
 * (chain-runner.ts) never sees it: a plugin that stashed an interaction token in one task and
 * threw it later from a timer (`'interaction ' + token + ' expired'`) put the token in the log.
 * The worker remembers its last {@link RECENT_TASKS} forwards for {@link RECENT_TASK_MS}, and its
 * plugins' options, and a stray error's reason is redacted with their credentials.
 *
 * Lazy, since stray errors are rare and the search is not free (~70 µs for a Discord
 * interaction): a task is kept as it came, and searched only when a stray error comes, then
 * only its values are kept. Bounded: at most {@link RECENT_TASKS} tasks, and at most
 * {@link MAX_KEPT_CHARS} of their forwards' text kept unsearched — past it the oldest are
 * searched at once and let go, so a burst of large bodies cannot hold the worker's heap.
 */
import { credentialValues, taskSecrets } from '../plugin-host/task-secrets.js';
import { SecretMatcher } from '../secret-matcher.js';
import { monotonicMs } from './progress-slots.js';
import type { ChainTask } from './task-protocol.js';

/** Forwards remembered, the latest. */
export const RECENT_TASKS = 64;
/** How long a forward's credentials are remembered, ms: a Discord interaction token lives 15 minutes. */
export const RECENT_TASK_MS = 15 * 60_000;
/** Characters of forwards (body, path, headers) kept unsearched, at most. */
export const MAX_KEPT_CHARS = 2 * 1024 * 1024;

/** One remembered forward: as it came until searched, then its credentials alone. */
interface Recent {
  readonly at: number;
  task: ChainTask | undefined;
  chars: number;
  secrets: readonly string[];
}

/** Construction options of {@link RecentSecrets}; the defaults are the constants above. */
export interface RecentSecretsOptions {
  readonly tasks?: number;
  readonly maxAgeMs?: number;
  readonly maxKeptChars?: number;
  /** The monotonic clock, ms; default {@link monotonicMs}. Tests inject a stepped one. */
  readonly now?: () => number;
}

/** A worker's memory of the credentials its recent forwards and its plugins' options hold. */
export class RecentSecrets {
  private readonly recent: Recent[] = [];
  private keptChars = 0;
  private options: readonly string[] | undefined;
  private matcher: SecretMatcher | undefined;
  private readonly tasks: number;
  private readonly maxAgeMs: number;
  private readonly maxKeptChars: number;
  private readonly now: () => number;

  /** `pluginOptions`: each plugin's raw manifest options (a plugin may take a credential there). */
  constructor(
    private readonly pluginOptions: readonly unknown[],
    options: RecentSecretsOptions = {},
  ) {
    this.tasks = options.tasks ?? RECENT_TASKS;
    this.maxAgeMs = options.maxAgeMs ?? RECENT_TASK_MS;
    this.maxKeptChars = options.maxKeptChars ?? MAX_KEPT_CHARS;
    this.now = options.now ?? monotonicMs;
  }

  /**
   * Remember `task` if it is a forward (where a platform's credentials arrive; an event or an
   * action reaching a plugin carries none by contract: the plugins strip the token). Cheap: no
   * search here.
   */
  remember(task: ChainTask): void {
    if (task.k !== 'convert') return;
    const { bodyB64, path, headers } = task.forward;
    let chars = bodyB64.length + path.length;
    for (const [name, value] of headers) chars += String(name).length + String(value).length;
    this.recent.push({ at: this.now(), task, chars, secrets: [] });
    this.keptChars += chars;
    this.matcher = undefined;
    if (this.recent.length > this.tasks) this.forget(this.recent.shift() as Recent);
    for (const entry of this.recent) {
      if (this.keptChars <= this.maxKeptChars) break;
      this.search(entry);
    }
  }

  /** The credentials of the forwards of the last {@link RECENT_TASK_MS} and of the options, indexed. */
  secrets(): SecretMatcher {
    const since = this.now() - this.maxAgeMs;
    while (this.recent.length > 0 && (this.recent[0] as Recent).at < since) {
      this.forget(this.recent.shift() as Recent);
      this.matcher = undefined;
    }
    if (this.matcher) return this.matcher;
    this.options ??= this.pluginOptions.flatMap((value) => credentialValues(value));
    for (const entry of this.recent) this.search(entry);
    this.matcher = new SecretMatcher([...this.options, ...this.recent.flatMap((entry) => entry.secrets)]);
    return this.matcher;
  }

  /** Search `entry`'s forward now and let it go. */
  private search(entry: Recent): void {
    if (!entry.task) return;
    entry.secrets = taskSecrets(entry.task);
    this.forget(entry);
  }

  private forget(entry: Recent): void {
    this.keptChars -= entry.chars;
    entry.task = undefined;
    entry.chars = 0;
  }
}
