/**
 * Load, validate and freeze the configuration: config file (optional) overlaid by env.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { type Alias, parseDocument, visit, type YAMLError } from 'yaml';
import { RelayError } from '../errors.js';
import { deepFreeze } from './deep-freeze.js';
import { envNameFor, envOverlay, envValue, type WarnFn } from './env-map.js';
import { issueMessage } from './issue-message.js';
import { openToEveryone } from './open-to-everyone.js';
import { type Config, ConfigSchema } from './schema.js';

/** Where the configuration comes from. */
export interface LoadConfigOptions {
  /** Environment; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Config file path; default `env.SIDECAR_CONFIG`. */
  readonly file?: string;
  /** Values applied under the file and env (CLI defaults, tests). */
  readonly base?: Record<string, unknown>;
  /**
   * Told what the environment sets that the start goes ahead with but leaves unused (a
   * `GATEWAY_RELAY_BOT_IDS` entry): called during the load, before it returns or throws.
   */
  readonly warn?: WarnFn;
}

/** Read the config file (YAML or JSON). */
function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  let open: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
    // it names the plugin manifest, the agent URL and the data dir
    open = openToEveryone(realpathSync(path), 'the config file');
  } catch (err) {
    throw new RelayError(
      'CORE_ERR_CONFIG_FILE_UNREADABLE',
      `config file ${path} cannot be read: ${(err as Error).message}`,
    );
  }
  if (open) throw new RelayError('CORE_ERR_CONFIG_FILE_UNREADABLE', `config file ${path}: ${open}`);
  // YAML is a superset of JSON. Warnings (a tag YAML cannot resolve) refuse the file too: the
  // value would silently change, and yaml prints them to stderr with the line they are on
  const doc = parseDocument(text, { prettyErrors: false, logLevel: 'silent' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    throw new RelayError(
      'CORE_ERR_CONFIG_FILE_UNREADABLE',
      `config file ${path} is not valid YAML/JSON: ${yamlProblem(problem, text)}`,
    );
  }
  // toJS() would throw for an alias naming no anchor, quoting the name
  let unresolved: Alias | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc)) return undefined;
      unresolved = alias;
      return visit.BREAK;
    },
  });
  if (unresolved) {
    const at = linePosOf(text, unresolved.range?.[0] ?? 0);
    throw new RelayError(
      'CORE_ERR_CONFIG_FILE_UNREADABLE',
      `config file ${path} is not valid YAML/JSON: an alias names no anchor (a value starting with * must be quoted) at line ${at.line}, column ${at.col} (BAD_ALIAS)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = doc.toJS();
  } catch (err) {
    const what = (err as Error).message.split('\n')[0]?.split(': ')[0];
    throw new RelayError(
      'CORE_ERR_CONFIG_FILE_UNREADABLE',
      `config file ${path} is not valid YAML/JSON: ${what}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RelayError(
      'CORE_ERR_CONFIG_FILE_UNREADABLE',
      `config file ${path} must hold an object of settings`,
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * A YAML error without the file's text: what follows a `: ` in yaml's message is quoted from the
 * file (an alias, a tag, a block header), and an unquoted value starting with `*`, `&`, `!` or `|`
 * — a secret among them — is read as one. Its position and code say where and what.
 */
function yamlProblem(err: YAMLError, text: string): string {
  const what = err.message.split('\n')[0]?.split(': ')[0] ?? 'error';
  const at = err.linePos?.[0] ?? linePosOf(text, err.pos[0]);
  return `${what} at line ${at.line}, column ${at.col} (${err.code})`;
}

/** 1-based line and column of `offset` in `text`. */
function linePosOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** Deep-merge plain objects; arrays and scalars from `over` replace. */
export function deepMerge(
  under: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...under };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    const bothObjects =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev);
    out[k] = bothObjects ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/**
 * Build the frozen config. Throws {@link RelayError} `CORE_ERR_CONFIG_INVALID` naming every bad
 * key (and its env variable) and what is wrong — never the value.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? envValue(env, 'SIDECAR_CONFIG');
  let overlay: Record<string, unknown>;
  let botIds: RelayError | undefined;
  try {
    overlay = envOverlay(env, options.warn);
  } catch (err) {
    if (!(err instanceof RelayError) || err.code !== 'CORE_ERR_CONFIG_BOT_IDS_MALFORMED') throw err;
    // the rest is still checked, so one start names every bad key
    botIds = err;
    overlay = envOverlay({ ...env, GATEWAY_RELAY_BOT_IDS: undefined });
  }
  // after the env's warnings, so an unreadable file does not keep them unsaid
  const fromFile = file ? readConfigFile(file) : {};
  const merged = deepMerge(deepMerge(options.base ?? {}, fromFile), overlay);
  if (!botIds) return validateConfig(merged);
  let others: string[] = [];
  try {
    validateConfig(merged);
  } catch (err) {
    if (!(err instanceof RelayError)) throw err;
    others = err.message.split('\n').slice(1);
  }
  if (others.length === 0) throw botIds;
  // the layout of every other configuration error: a header, then one problem a line
  throw new RelayError(botIds.code, `invalid configuration:\n  ${botIds.message}\n${others.join('\n')}`);
}

/** Validate a nested config object and freeze it. */
export function validateConfig(input: Record<string, unknown>): Config {
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const env = envNameFor(issue.path as (string | number)[]);
      return `${key}${env ? ` (${env})` : ''}: ${issueMessage(issue, ConfigSchema, input)}`;
    });
    throw new RelayError('CORE_ERR_CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const cfg = result.data;
  const mode = cfg.agent.mode ?? (cfg.agent.url ? 'push' : 'pull');
  if (mode === 'push' && !cfg.agent.url) {
    throw new RelayError(
      'CORE_ERR_CONFIG_INVALID',
      'invalid configuration:\n  agent.url (AGENT_URL): push mode needs AGENT_URL; set it or use AGENT_MODE=pull',
    );
  }
  return deepFreeze({ ...cfg, agent: { ...cfg.agent, mode } }) as Config;
}
