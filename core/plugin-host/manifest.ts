/**
 * `plugins.json` (spec/plugins.md, "Model"): which plugins run, in which order, with which options.
 * Validated once at start with a strict schema; a bad manifest stops the start with a message that
 * names the plugin (when known), the key and the problem.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve as resolveEsm } from 'import-meta-resolve';
import { z } from 'zod';
import { issueMessage } from '../config/issue-message.js';
import { openToEveryone } from '../config/open-to-everyone.js';
import { errorMessage, RelayError } from '../errors.js';
import { parseErrorReason } from '../protocol/decode.js';

/** Most plugins one manifest may list (a chain position must fit a progress slot). */
export const MAX_PLUGINS = 256;

/** A plugin name: also its store namespace and a metric label. */
const PluginNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9@][A-Za-z0-9@/._-]{0,99}$/,
    'must be 1-100 of [A-Za-z0-9@/._-], starting with a letter, digit or @',
  );

/** The manifest schema; `defaultTimeoutMs` is `config.pool.taskTimeoutMs`. */
export function manifestSchema(defaultTimeoutMs: number) {
  const entry = z.strictObject({
    /** Must equal the module's `definePlugin({ name })`. */
    name: PluginNameSchema,
    /** A path relative to the manifest, an absolute path or `file:` URL, or a package specifier. */
    module: z
      .string()
      // resolution takes the text as it is: ` ./p.js` is looked for as a package named so
      .regex(
        /^\S(.*\S)?$/s,
        'must not be blank or start or end with blanks: a path relative to the manifest (./my-plugin/index.js), an absolute path or a package name',
      ),
    /** Off ⇒ not loaded: its platforms are dropped, its ops unsupported. Default true. */
    enabled: z.boolean().default(true),
    /** Passed to the plugin's own `options` schema. Default {}. */
    options: z.record(z.string(), z.unknown()).default({}),
    /** Per-hook timeout, ms; the worker is terminated past it. Default `pool.taskTimeoutMs`. */
    timeoutMs: z.number().int().positive().max(600_000).default(defaultTimeoutMs),
  });
  return z
    .strictObject({
      apiVersion: z.literal(1, { error: 'must be 1: the only manifest format this sidecar reads' }),
      plugins: z.array(entry).max(MAX_PLUGINS),
    })
    .superRefine((manifest, ctx) => {
      const seen = new Map<string, number>();
      manifest.plugins.forEach((p, i) => {
        const first = seen.get(p.name);
        if (first === undefined) seen.set(p.name, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: ['plugins', i, 'name'],
            message: `duplicate name (also plugins[${first}])`,
          });
      });
    });
}

/** A validated manifest. */
export type Manifest = z.infer<ReturnType<typeof manifestSchema>>;
/** One validated manifest entry. */
export type ManifestEntry = Manifest['plugins'][number];

/** Read and validate the manifest at `manifestPath`. Throws `CORE_ERR_PLUGIN_MANIFEST_INVALID`. */
export function readManifest(manifestPath: string, defaultTimeoutMs: number): Manifest {
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'the file does not exist: point SIDECAR_PLUGINS (or --plugins) at the manifest; it is ' +
          './plugins.json of the working directory by default'
        : `cannot read the file: ${code ?? String(err)}`;
    throw invalid(manifestPath, [problem]);
  }
  // whoever may change the manifest chooses the code the sidecar runs
  const open = openToEveryone(realpathSync(manifestPath), 'the manifest');
  if (open) throw invalid(manifestPath, [open]);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // without the snippet V8 quotes: plugin options may hold credentials
    throw invalid(manifestPath, [`not valid JSON: ${withLine(parseErrorReason(err), text)}`]);
  }
  return parseManifest(raw, manifestPath, defaultTimeoutMs);
}

/**
 * V8's "at position 542" with the line and column an editor shows (a trailing comma, a missing
 * quote), so the operator need not count characters; the reason stays as V8 gave it.
 */
function withLine(reason: string, text: string): string {
  const match = / at position (\d+)/.exec(reason);
  if (!match || reason.includes('(line ')) return reason;
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${reason} (line ${line}, column ${column})`;
}

/** Validate an already-parsed manifest (`source` names it in messages). */
export function parseManifest(raw: unknown, source: string, defaultTimeoutMs: number): Manifest {
  const schema = manifestSchema(defaultTimeoutMs);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const [, index] = issue.path;
    const name = typeof index === 'number' ? pluginNameAt(raw, index) : undefined;
    const key = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .slice(1);
    // in the words config errors use: what the field takes, the near key of a misspelt one
    return `${key || '(root)'}${name ? ` (plugin "${name}")` : ''}: ${issueMessage(issue, schema, raw)}`;
  });
  throw invalid(source, problems);
}

/**
 * The absolute file of a manifest `module`: `file:` URLs and paths (relative to the manifest's
 * directory) as given; package specifiers as an `import()` from the manifest file would resolve
 * them: Node's ESM resolution (`import-meta-resolve`; Node 20's own `import.meta.resolve` ignores a
 * parent URL without an experimental flag), honouring the package's `exports` with the "node",
 * "import" and "default" conditions — so an ESM-only package loads — including this package's own
 * `relay-sidecar/plugins/<name>`. Throws with Node's error code and message when it does not resolve.
 */
export function resolvePluginModule(specifier: string, manifestPath: string): string {
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  if (isAbsolute(specifier)) return specifier;
  if (specifier.startsWith('./') || specifier.startsWith('../'))
    return resolve(dirname(manifestPath), specifier);
  let url: string;
  try {
    url = resolveEsm(specifier, pathToFileURL(resolve(manifestPath)).href);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code ? `${code}: ${errorMessage(err)}` : errorMessage(err);
    throw new Error(`${why}${builtInHint(specifier, code)}`);
  }
  // a plugin is a file; `node:` built-ins and the like are not
  if (!url.startsWith('file:')) throw new Error(`resolves to ${url}, not a file`);
  return fileURLToPath(url);
}

/**
 * A built-in's package name resolves only from a manifest inside this installation: one kept
 * elsewhere (`/etc/relay-sidecar/plugins.json`) names it by path, and the message says which.
 */
function builtInHint(specifier: string, code: string | undefined): string {
  const name = /^relay-sidecar\/plugins\/([a-z0-9-]+)$/.exec(specifier)?.[1];
  if (code !== 'ERR_MODULE_NOT_FOUND' || name === undefined) return '';
  return `; the built-ins' package names resolve only from a manifest inside the installation: name it by path, "module": "${builtInFile(name)}"`;
}

/** The file of the built-in plugin `name` in this installation. */
function builtInFile(name: string): string {
  // dist/core/plugin-host/manifest.js → dist/plugins/<name>/index.js
  return fileURLToPath(new URL(`../../plugins/${name}/index.js`, import.meta.url));
}

/**
 * How the manifest at `manifestPath` names the built-in plugin `name` (`scope-reattacher`): its
 * package name where that resolves from the manifest's directory, else its file's path (a manifest
 * kept outside the installation), so advice to add it gives an entry that loads.
 */
export function builtInModuleFor(name: string, manifestPath: string): string {
  const specifier = `relay-sidecar/plugins/${name}`;
  try {
    resolvePluginModule(specifier, manifestPath);
    return specifier;
  } catch {
    return builtInFile(name);
  }
}

function pluginNameAt(raw: unknown, index: number): string | undefined {
  const plugins = (raw as { plugins?: unknown } | null)?.plugins;
  const name = Array.isArray(plugins) ? (plugins[index] as { name?: unknown } | null)?.name : undefined;
  return typeof name === 'string' ? name.slice(0, 100) : undefined;
}

function invalid(source: string, problems: string[]): RelayError {
  return new RelayError(
    'CORE_ERR_PLUGIN_MANIFEST_INVALID',
    `plugin manifest ${source} is invalid:\n  ${problems.join('\n  ')}`,
    {
      details: { problems },
    },
  );
}
