/**
 * Start-up check of every enabled plugin (spec/plugins.md, "Model"): the module resolves to a file
 * no other local user may change, loads, its default export was made by `definePlugin`, the
 * declared name matches the manifest, and the manifest options pass the plugin's own schema. The
 * file checks run here; the import and everything after it run in a short-lived worker thread
 * (plugin-check-thread.ts): the main thread never imports a plugin module. Any failure stops the
 * start with a RelayError naming the plugin and the problem. Disabled entries are listed, never
 * imported.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openToEveryone } from '../config/open-to-everyone.js';
import { RelayError } from '../errors.js';
import { redactValues, SecretMatcher } from '../secret-matcher.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import { resolvePluginModule } from './manifest.js';
import { type CheckCode, type CheckRef, firstLine } from './plugin-check.js';
import { type CheckLimits, checkInThread } from './plugin-check-thread.js';
import { credentialValues } from './task-secrets.js';
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

/** An enabled, checked plugin: what it declares, never its code (that stays in the workers). */
export interface LoadedPlugin {
  readonly entry: ManifestEntry;
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
 * How long one plugin module may take to import at start, ms (the check thread and each first
 * pool worker); its options schema gets as long again. A top-level await that never settles, or a
 * top-level loop, otherwise held the start silently forever.
 */
export const LOAD_TIMEOUT_MS = 30_000;

/** Load and check every enabled entry; throws the first problem as a RelayError. */
export async function loadPlugins(
  manifest: Manifest,
  manifestPath: string,
  loadTimeoutMs = LOAD_TIMEOUT_MS,
  resourceLimits?: CheckLimits['resourceLimits'],
): Promise<LoadedManifest> {
  return checkPlugins(locatePlugins(manifest, manifestPath), {
    loadTimeoutMs,
    ...(resourceLimits ? { resourceLimits } : {}),
  });
}

/** The enabled entries' modules found on disk, up to the first that is refused there. */
export interface LocatedManifest {
  readonly manifest: Manifest;
  /** The enabled entries before the first refusal (all of them when none), in manifest order. */
  readonly located: readonly LocatedPlugin[];
  /** Why the entry after the last located one was refused, if one was. */
  readonly refusal?: RelayError;
}

/** A plugin module found on disk. */
export interface LocatedPlugin {
  readonly entry: ManifestEntry;
  /** Absolute `file:` URL of the module. */
  readonly url: string;
  /** The file that URL loads, links resolved. */
  readonly file: string;
}

/**
 * The file checks of every enabled entry, in order (core code: nothing of a plugin runs). The
 * check thread then loads those before the first entry refused here, so the first problem in
 * manifest order is still the one reported.
 */
export function locatePlugins(manifest: Manifest, manifestPath: string): LocatedManifest {
  const located: LocatedPlugin[] = [];
  for (const entry of manifest.plugins) {
    if (!entry.enabled) continue;
    try {
      located.push(locate(entry, manifestPath));
    } catch (err) {
      const refusal =
        err instanceof RelayError ? err : refused(entry, 'CORE_ERR_PLUGIN_LOAD_FAILED', firstLine(err));
      return { manifest, located, refusal };
    }
  }
  return { manifest, located };
}

/**
 * Import and check the located modules in the check thread; throws the first problem in manifest
 * order as a RelayError.
 */
export async function checkPlugins(found: LocatedManifest, limits: CheckLimits): Promise<LoadedManifest> {
  const { manifest, located, refusal } = found;
  const refs: CheckRef[] = located.map(({ entry, url }) => ({
    name: entry.name,
    url,
    options: entry.options,
  }));
  const verdicts = await checkInThread(refs, limits);
  const loaded = new Map<ManifestEntry, LoadedPlugin>();
  for (const [index, verdict] of verdicts.entries()) {
    const { entry, url, file } = located[index] as LocatedPlugin;
    if (!verdict.ok) throw refused(entry, verdict.code, verdict.problem);
    const { version, ...declares } = verdict.description;
    const info: PluginInfo = {
      name: entry.name,
      ...(version === undefined ? {} : { version }),
      enabled: true,
      module: entry.module,
      ...declares,
    };
    loaded.set(entry, { entry, url, file, info });
  }
  if (refusal) throw refusal;
  return {
    enabled: located.map(({ entry }) => loaded.get(entry) as LoadedPlugin),
    infos: manifest.plugins.map((entry) => loaded.get(entry)?.info ?? disabledInfo(entry)),
  };
}

function disabledInfo(entry: ManifestEntry): PluginInfo {
  return {
    name: entry.name,
    enabled: false,
    module: entry.module,
    passthrough: [],
    inbound: false,
    outboundOps: [],
    ops: [],
  };
}

/**
 * The error refusing `entry`, `problem` without the credentials of its options. `ownPaths`: the
 * problem is the loader's own about the module's file, whose path segments are the operator's and
 * say what to fix (a key-like one is blanked in others' words, secret-matcher.ts).
 */
function refused(entry: ManifestEntry, code: CheckCode, problem: string, ownPaths = false): RelayError {
  // a schema's message may quote the option it refused: a credential given there stays out
  const secrets = credentialValues(entry.options);
  const said = ownPaths ? new SecretMatcher(secrets).withoutKnown(problem) : redactValues(problem, secrets);
  return new RelayError(code, `plugin "${entry.name}" (${entry.module}): ${said}`, {
    details: { plugin: entry.name },
  });
}

/** The module's file and URL, checked on disk (core code: nothing of the plugin runs). */
function locate(entry: ManifestEntry, manifestPath: string): LocatedPlugin {
  const fail = (problem: string) => refused(entry, 'CORE_ERR_PLUGIN_LOAD_FAILED', problem, true);
  let file: string;
  try {
    file = resolvePluginModule(entry.module, manifestPath);
  } catch (err) {
    throw fail(`cannot resolve the module: ${firstLine(err)}`);
  }
  if (!existsSync(file)) {
    // Node would say "Cannot find module … imported from" this loader
    const relative = entry.module.startsWith('./') || entry.module.startsWith('../');
    const from = relative
      ? ` (a relative module path starts from the manifest's directory, ${dirname(manifestPath)})`
      : '';
    throw fail(`the file ${file} does not exist${from}`);
  }
  // the file Node loads is the link's target: a module (or its directory) any local user may
  // write to runs their code as the sidecar, with its secrets and the store
  const real = realpathSync(file);
  const open = openToEveryone(real, 'the module');
  if (open) throw fail(open);
  return { entry, url: pathToFileURL(file).href, file: real };
}
