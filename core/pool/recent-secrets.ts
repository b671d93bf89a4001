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
 * only its values are kept. Bounded: at most {@link RECENT_TASKS} tasks, at most
 * {@link MAX_KEPT_CHARS} of their forwards' text and credentials — past it the oldest forwards
 * are searched at once, and let go if their credentials are still too many — and at most
 * {@link MAX_KEPT_VALUES} credentials, so that neither a burst of large bodies nor one of bodies
 * full of credential-named decoys can hold the worker's heap or make each stray error's index
 * cost seconds. The latest forward is kept whatever its size.
 */
import { credentialValues, taskSecrets } from '../plugin-host/task-secrets.js';
import { SecretMatcher } from '../secret-matcher.js';
import { monotonicMs } from './progress-slots.js';
import type { ChainTask } from './task-protocol.js';

/** Forwards remembered, the latest. */
export const RECENT_TASKS = 64;
/** How long a forward's credentials are remembered, ms: a Discord interaction token lives 15 minutes. */
export const RECENT_TASK_MS = 15 * 60_000;
/** Characters kept, at most: of forwards not yet searched (body, path, headers), and of credentials found. */
export const MAX_KEPT_CHARS = 2 * 1024 * 1024;
/**
 * Credentials kept, at most: a webhook holds a few. 64 bodies of 300 credential-named decoys each
 * were 19 200 values, held for 15 minutes and indexed again (~1 s of the worker) for the first
 * stray error after each new forward.
 */
export const MAX_KEPT_VALUES = 4_096;

/** One remembered forward: as it came until searched, then its credentials alone. */
interface Recent {
  readonly at: number;
  task: ChainTask | undefined;
  /** Characters it holds: its forward's until searched, then its credentials'. */
  chars: number;
  secrets: readonly string[];
}

/** Construction options of {@link RecentSecrets}; the defaults are the constants above. */
export interface RecentSecretsOptions {
  readonly tasks?: number;
  readonly maxAgeMs?: number;
  readonly maxKeptChars?: number;
  readonly maxKeptValues?: number;
  /** The monotonic clock, ms; default {@link monotonicMs}. Tests inject a stepped one. */
  readonly now?: () => number;
}

/** A worker's memory of the credentials its recent forwards and its plugins' options hold. */
export class RecentSecrets {
  private readonly recent: Recent[] = [];
  private keptChars = 0;
  private values = 0;
  private options: readonly string[] | undefined;
  private matcher: SecretMatcher | undefined;
  private readonly tasks: number;
  private readonly maxAgeMs: number;
  private readonly maxKeptChars: number;
  private readonly maxKeptValues: number;
  private readonly now: () => number;

  /** `pluginOptions`: each plugin's raw manifest options (a plugin may take a credential there). */
  constructor(
    private readonly pluginOptions: readonly unknown[],
    options: RecentSecretsOptions = {},
  ) {
    this.tasks = options.tasks ?? RECENT_TASKS;
    this.maxAgeMs = options.maxAgeMs ?? RECENT_TASK_MS;
    this.maxKeptChars = options.maxKeptChars ?? MAX_KEPT_CHARS;
    this.maxKeptValues = options.maxKeptValues ?? MAX_KEPT_VALUES;
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
    this.bound();
  }

  /** Credentials kept now (of the forwards searched), for tests. */
  get keptValues(): number {
    return this.values;
  }

  /** The credentials of the forwards of the last {@link RECENT_TASK_MS} and of the options, indexed. */
  secrets(): SecretMatcher {
    const since = this.now() - this.maxAgeMs;
    while (this.recent.length > 0 && (this.recent[0] as Recent).at < since) {
      this.forget(this.recent.shift() as Recent);
    }
    if (this.matcher) return this.matcher;
    this.options ??= this.pluginOptions.flatMap((value) => credentialValues(value));
    for (const entry of this.recent) this.search(entry);
    this.bound();
    this.matcher = new SecretMatcher([...this.options, ...this.recent.flatMap((entry) => entry.secrets)]);
    return this.matcher;
  }

  /** Within the bounds: the oldest forwards searched first, then the oldest let go, never the latest. */
  private bound(): void {
    for (const entry of this.recent) {
      if (this.keptChars <= this.maxKeptChars) break;
      this.search(entry);
    }
    while (
      this.recent.length > 1 &&
      (this.keptChars > this.maxKeptChars || this.values > this.maxKeptValues)
    ) {
      this.forget(this.recent.shift() as Recent);
    }
  }

  /** Search `entry`'s forward now and keep its credentials alone. */
  private search(entry: Recent): void {
    if (!entry.task) return;
    const secrets = taskSecrets(entry.task);
    this.keptChars -= entry.chars;
    entry.task = undefined;
    entry.secrets = secrets;
    entry.chars = secrets.reduce((sum, secret) => sum + secret.length, 0);
    this.keptChars += entry.chars;
    this.values += secrets.length;
  }

  /** Let `entry` go (it has left the list). */
  private forget(entry: Recent): void {
    this.keptChars -= entry.chars;
    this.values -= entry.secrets.length;
    this.matcher = undefined;
  }
}
