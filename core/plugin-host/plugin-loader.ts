/**
 * Start-up check of every enabled plugin on the main thread (spec/plugins.md, "Model"): the module
 * loads, its default export was made by `definePlugin`, the declared name matches the manifest,
 * and the manifest options pass the plugin's own schema. Any failure stops the start with a
 * RelayError naming the plugin and the problem. Disabled entries are listed, never imported.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openToEveryone } from '../config/open-to-everyone.js';
import { errorMessage, RelayError } from '../errors.js';
import { isPluginDefinition, type PluginDefinition } from './define-plugin.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import { resolvePluginModule } from './manifest.js';
import { parsePluginOptions } from './plugin-options.js';

/** What `/v1/status` and callers see of one manifest entry. */
export interface PluginInfo {
  name: string;
  version?: string;
  enabled: boolean;
  /** The `module` as written in the manifest. */
  module: string;
  /** Forward platforms converted (empty when disabled: the module is not loaded). */
  passthrough: string[];
  /** Has an inbound hook. */
  inbound: boolean;
  /** Ops its outbound hook runs on (`'*'` = all). */
  outboundOps: string[] | '*';
  /** Ops it defines. */
  ops: string[];
}

/** An enabled, checked plugin. */
export interface LoadedPlugin {
  readonly entry: ManifestEntry;
  readonly definition: PluginDefinition;
  /** Absolute `file:` URL the workers import. */
  readonly url: string;
  /** The file that URL loads, links resolved (logged at start). */
  readonly file: string;
  readonly info: PluginInfo;
}

/** The manifest's entries, checked and (when enabled) loaded, in manifest order. */
export interface LoadedManifest {
  /** Enabled plugins only, in manifest order (their index is the worker's plugin index). */
  readonly enabled: readonly LoadedPlugin[];
  /** Every entry, enabled or not. */
  readonly infos: readonly PluginInfo[];
}

/**
 * How long one plugin module may take to import at start, ms (main thread and each first worker).
 * A top-level await that never settles otherwise held the start silently forever.
 */
export const LOAD_TIMEOUT_MS = 30_000;

/** Load and check every enabled entry; throws the first problem as a RelayError. */
export async function loadPlugins(
  manifest: Manifest,
  manifestPath: string,
  loadTimeoutMs = LOAD_TIMEOUT_MS,
): Promise<LoadedManifest> {
  const enabled: LoadedPlugin[] = [];
  const infos: PluginInfo[] = [];
  for (const entry of manifest.plugins) {
    if (!entry.enabled) {
      infos.push({
        name: entry.name,
        enabled: false,
        module: entry.module,
        passthrough: [],
        inbound: false,
        outboundOps: [],
        ops: [],
      });
      continue;
    }
    const loaded = await loadOne(entry, manifestPath, loadTimeoutMs);
    enabled.push(loaded);
    infos.push(loaded.info);
  }
  return { enabled, infos };
}

async function loadOne(
  entry: ManifestEntry,
  manifestPath: string,
  loadTimeoutMs: number,
): Promise<LoadedPlugin> {
  const fail = (
    code: 'CORE_ERR_PLUGIN_LOAD_FAILED' | 'CORE_ERR_PLUGIN_NAME_MISMATCH' | 'CORE_ERR_PLUGIN_OPTIONS_INVALID',
    problem: string,
  ) =>
    new RelayError(code, `plugin "${entry.name}" (${entry.module}): ${problem}`, {
      details: { plugin: entry.name },
    });

  let file: string;
  try {
    file = resolvePluginModule(entry.module, manifestPath);
  } catch (err) {
    throw fail('CORE_ERR_PLUGIN_LOAD_FAILED', `cannot resolve the module: ${reason(err)}`);
  }
  if (!existsSync(file)) {
    // Node would say "Cannot find module … imported from" this loader
    const relative = entry.module.startsWith('./') || entry.module.startsWith('../');
    const from = relative
      ? ` (a relative module path starts from the manifest's directory, ${dirname(manifestPath)})`
      : '';
    throw fail('CORE_ERR_PLUGIN_LOAD_FAILED', `the file ${file} does not exist${from}`);
  }
  // the file Node loads is the link's target: a module (or its directory) any local user may
  // write to runs their code as the sidecar, with its secrets and the store
  const real = realpathSync(file);
  const open = openToEveryone(real, 'the module');
  if (open) throw fail('CORE_ERR_PLUGIN_LOAD_FAILED', open);
  const url = pathToFileURL(file).href;
  const imported = await importGuarded(url, loadTimeoutMs);
  if ('late' in imported) {
    throw fail(
      'CORE_ERR_PLUGIN_LOAD_FAILED',
      `the module did not finish loading within ${loadTimeoutMs} ms: a top-level await that never ` +
        'settles? Do slow set-up lazily, in the first hook call',
    );
  }
  if ('exitCode' in imported) {
    throw fail(
      'CORE_ERR_PLUGIN_LOAD_FAILED',
      `the module called process.exit(${imported.exitCode}) while loading: a plugin must never end the ` +
        'process; return a verdict or throw instead',
    );
  }
  if ('error' in imported) {
    throw fail('CORE_ERR_PLUGIN_LOAD_FAILED', `the module failed to load: ${reason(imported.error)}`);
  }
  const mod = imported.mod;
  const definition = mod.default;
  if (!isPluginDefinition(definition)) {
    throw fail('CORE_ERR_PLUGIN_LOAD_FAILED', 'the default export was not made by definePlugin()');
  }
  if (definition.name !== entry.name) {
    throw fail('CORE_ERR_PLUGIN_NAME_MISMATCH', `the module declares the name "${definition.name}"`);
  }
  const shape = shapeProblem(definition);
  if (shape) throw fail('CORE_ERR_PLUGIN_LOAD_FAILED', shape);
  const options = parsePluginOptions(definition, entry.options);
  if (!options.ok) throw fail('CORE_ERR_PLUGIN_OPTIONS_INVALID', `options: ${options.problem}`);
  const outboundOps = definition.outbound ? definition.outbound.ops : [];
  const info: PluginInfo = {
    name: entry.name,
    ...(definition.version === undefined ? {} : { version: definition.version }),
    enabled: true,
    module: entry.module,
    passthrough: [...(definition.passthrough?.platforms ?? [])],
    inbound: typeof definition.inbound === 'function',
    outboundOps: outboundOps === '*' ? '*' : [...outboundOps],
    ops: Object.keys(definition.ops ?? {}),
  };
  return { entry, definition, url, file: real, info };
}

/** A `process.exit` call made by a module while it loads, turned into a throw. */
class ExitAttempt extends Error {
  constructor(readonly exitCode: unknown) {
    super('process.exit called while a plugin module loads');
  }
}

type Imported = { mod: { default?: unknown } } | { late: true } | { exitCode: string } | { error: unknown };

/**
 * Import a plugin module on the main thread, bounded in time. Its top-level code runs on the
 * thread that reads the socket: while it loads, `process.exit` throws instead of silently ending
 * the sidecar with exit 0 and no message (nothing else of the sidecar runs yet at start).
 */
async function importGuarded(url: string, loadTimeoutMs: number): Promise<Imported> {
  // loads may overlap (two hosts in one process): the first patches, the last restores
  if (exitGuard.depth++ === 0) {
    exitGuard.exit = process.exit;
    process.exit = ((code?: unknown) => {
      throw new ExitAttempt(code);
    }) as typeof process.exit;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ late: true }>((resolve) => {
    timer = setTimeout(() => resolve({ late: true }), loadTimeoutMs);
  });
  try {
    const mod = import(url).then((m: { default?: unknown }) => ({ mod: m }));
    return await Promise.race([mod, late]);
  } catch (err) {
    return err instanceof ExitAttempt ? { exitCode: String(err.exitCode ?? '') } : { error: err };
  } finally {
    clearTimeout(timer);
    if (--exitGuard.depth === 0 && exitGuard.exit) process.exit = exitGuard.exit;
  }
}

/** The real `process.exit` while {@link importGuarded} calls are in progress, and how many. */
const exitGuard: { depth: number; exit: typeof process.exit | undefined } = { depth: 0, exit: undefined };

/** What is wrong with the declaration's shape (a plain-JS plugin has no type checker), if anything. */
function shapeProblem(d: PluginDefinition): string | undefined {
  const p = d.passthrough;
  if (
    p &&
    (!Array.isArray(p.platforms) ||
      typeof p.convert !== 'function' ||
      p.platforms.some((x) => typeof x !== 'string' || x === ''))
  ) {
    return 'passthrough needs platforms (non-empty strings) and a convert function';
  }
  if (d.inbound !== undefined && typeof d.inbound !== 'function') return 'inbound must be a function';
  const o = d.outbound;
  if (
    o &&
    (typeof o.hook !== 'function' ||
      (o.ops !== '*' && (!Array.isArray(o.ops) || o.ops.some((x) => typeof x !== 'string'))))
  ) {
    return "outbound needs ops (string[] or '*') and a hook function";
  }
  for (const [op, schema] of Object.entries(d.ops ?? {})) {
    if (typeof (schema as { safeParse?: unknown })?.safeParse !== 'function')
      return `ops.${op} is not a zod schema`;
  }
  if (d.options !== undefined && typeof d.options.safeParse !== 'function')
    return 'options is not a zod schema';
  return undefined;
}

function reason(err: unknown): string {
  return errorMessage(err).split('\n')[0]?.slice(0, 500) ?? '';
}
