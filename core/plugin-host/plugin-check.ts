/**
 * The start-up check of one plugin module's default export (spec/plugins.md, "Model"): made by
 * `definePlugin`, the declared name matches the manifest, the declaration has the right shape and
 * the manifest options pass the plugin's own schema. It runs in the check worker
 * (plugin-check-worker.ts), never on the main thread: the options schema is plugin code. What it
 * returns is plain data, so it crosses the thread boundary as it is.
 */
import { fileURLToPath } from 'node:url';
import { closestName } from '../config/closest-name.js';
import { errorMessage } from '../errors.js';
import { isPluginDefinition, type PluginDefinition } from './define-plugin.js';
import { parsePluginOptions } from './plugin-options.js';
import { stackLocation } from './stack-location.js';

/** One enabled plugin as the check worker gets it. */
export interface CheckRef {
  readonly name: string;
  /** Absolute `file:` URL of the module. */
  readonly url: string;
  /** Raw manifest options. */
  readonly options: unknown;
}

/** What the main thread learns of a checked plugin: its declaration without the code. */
export interface PluginDescription {
  readonly version?: string;
  /** Forward platforms it converts. */
  readonly passthrough: string[];
  /** Has an inbound hook. */
  readonly inbound: boolean;
  /** Ops its outbound hook runs on (`'*'` = all). */
  readonly outboundOps: string[] | '*';
  /** Ops it defines. */
  readonly ops: string[];
}

/** Codes a refused check carries (the message is `problem`, the loader adds the plugin). */
export type CheckCode =
  | 'CORE_ERR_PLUGIN_LOAD_FAILED'
  | 'CORE_ERR_PLUGIN_NAME_MISMATCH'
  | 'CORE_ERR_PLUGIN_OPTIONS_INVALID';

/** The verdict on one plugin. */
export type CheckVerdict =
  | { readonly ok: true; readonly description: PluginDescription }
  | { readonly ok: false; readonly code: CheckCode; readonly problem: string };

/** Check an imported module against its manifest entry; never throws (a throw is the schema's). */
export function checkModule(mod: { default?: unknown }, ref: CheckRef): CheckVerdict {
  const definition = mod.default;
  if (!isPluginDefinition(definition))
    return refused('CORE_ERR_PLUGIN_LOAD_FAILED', notAPlugin(mod, ref.name));
  if (definition.name !== ref.name) {
    return refused(
      'CORE_ERR_PLUGIN_NAME_MISMATCH',
      `the module declares the name "${String(definition.name).slice(0, 100)}": the manifest entry's name "${ref.name}" and definePlugin({ name }) must be the same`,
    );
  }
  const shape = shapeProblem(definition);
  if (shape) return refused('CORE_ERR_PLUGIN_LOAD_FAILED', shape);
  const options = parsePluginOptions(definition, ref.options);
  if (!options.ok) return refused('CORE_ERR_PLUGIN_OPTIONS_INVALID', `options: ${options.problem}`);
  const outboundOps = definition.outbound ? definition.outbound.ops : [];
  return {
    ok: true,
    description: {
      ...(definition.version === undefined ? {} : { version: String(definition.version) }),
      passthrough: [...(definition.passthrough?.platforms ?? [])],
      inbound: typeof definition.inbound === 'function',
      outboundOps: outboundOps === '*' ? '*' : [...outboundOps],
      ops: Object.keys(definition.ops ?? {}),
    },
  };
}

function refused(code: CheckCode, problem: string): CheckVerdict {
  return { ok: false, code, problem };
}

/** The keys `definePlugin({...})` takes (spec/plugins.md, "Model"). */
const DECLARATION_KEYS = ['name', 'version', 'options', 'passthrough', 'inbound', 'outbound', 'ops'];

/**
 * An unknown key of the declaration, told as config keys are: a misspelt hook (`inbond`) loaded
 * and never ran, as the manifest's `enabeld` would have without its strict schema.
 */
function unknownKey(d: PluginDefinition): string | undefined {
  const key = Object.keys(d).find((k) => !DECLARATION_KEYS.includes(k));
  if (key === undefined) return undefined;
  const shown = `unknown key "${key.slice(0, 100)}" in its definePlugin({…})`;
  const near = closestName(key, DECLARATION_KEYS);
  return near
    ? `${shown}: did you mean "${near}"?`
    : `${shown} (a plugin declares ${DECLARATION_KEYS.join(', ')})`;
}

/** What is wrong with the declaration's shape (a plain-JS plugin has no type checker), if anything. */
function shapeProblem(d: PluginDefinition): string | undefined {
  const unknown = unknownKey(d);
  if (unknown) return unknown;
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

/**
 * Why a module's default export is not a plugin, and what to write instead: "not made by
 * definePlugin()" alone left an author with a named export (or none) guessing.
 */
function notAPlugin(mod: { default?: unknown }, name: string): string {
  const fix = `write \`export default definePlugin({ name: '${name}', … })\` with \`import { definePlugin } from 'relay-sidecar'\``;
  if (!('default' in mod)) {
    const names = Object.keys(mod)
      .slice(0, 10)
      .map((n) => n.slice(0, 100));
    return `the module has no default export (it exports: ${names.join(', ') || 'nothing'}): ${fix}`;
  }
  const value = mod.default;
  const what =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'an array'
        : typeof value === 'object'
          ? 'an object'
          : `a ${typeof value}`;
  return `the default export is ${what} not made by definePlugin(): ${fix}`;
}

/**
 * A module's failure to load, with where it happened: the error's class and first line, then the
 * first `file:line` of its stack inside the module's directory (a throw at the top level has it in
 * a frame), or for a parse error the command that shows it. No source text: only the path and line.
 */
export function loadFailure(err: unknown, moduleUrl: string): string {
  const kind = err instanceof Error && err.name !== 'Error' ? `${err.name}: ` : '';
  const dir = moduleUrl.slice(0, moduleUrl.lastIndexOf('/') + 1);
  const where = stackLocation(err, (url) => url.startsWith(dir));
  if (where) return `${kind}${firstLine(err)} (at ${where})`;
  // the workers import JavaScript: a plugin written in TypeScript is built first (plugins.md §10)
  if (
    (err as { code?: unknown } | null)?.code === 'ERR_UNKNOWN_FILE_EXTENSION' &&
    /\.[cm]?tsx?$/.test(moduleUrl)
  )
    return `${kind}${firstLine(err)}: compile it to JavaScript (tsc) and point the manifest's "module" at the .js file`;
  // Node 20 keeps a parse error's file and line out of the error (it prints them only when the
  // error ends the process): say how to find them. A missing named import is a SyntaxError too,
  // one its message already places
  const unparsed = err instanceof SyntaxError && !/does not provide an export named/.test(err.message);
  const hint = unparsed
    ? ` (\`node --check ${fileURLToPath(moduleUrl)}\` shows the line when it is in that file, else in one it imports)`
    : '';
  return `${kind}${firstLine(err)}${hint}`;
}

/** The first line of what `err` says, at most 500 characters: a refusal's reason. */
export function firstLine(err: unknown): string {
  return errorMessage(err).split('\n')[0]?.slice(0, 500) ?? '';
}
