/**
 * The env file written by `relay-sidecar enroll` (default `.env.relay`): `KEY=value` lines that
 * systemd `EnvironmentFile=`, `docker --env-file`, `node --env-file` and `set -a; . file` all read.
 *
 * Writing merges into an existing file (other lines, comments and order are kept), replaces the
 * file atomically (temp file in the same directory + rename) and leaves it at mode 0600.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openToEveryone } from '../../core/config/open-to-everyone.js';
import { RelayError } from '../../core/errors.js';

/** File mode of the env file: owner read/write only (it holds a secret). */
export const ENV_FILE_MODE = 0o600;

/** Values written bare; anything else is quoted. Covers hex secrets, ids and plain URLs. */
const BARE = /^[A-Za-z0-9_./:@+=,%~-]*$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A bare name, docker's pass-through form, or a shell's `export NAME` of one already set. */
const BARE_NAME = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*$/;
/** `KEY=` at the start of a line, optionally after `export `. */
const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/** C0 and C1 control characters and DEL: a newline, a terminal escape. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it matches
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** `value` as a terminal may show it: control characters (escapes) as `?`. */
export function printable(value: string): string {
  return value.replace(CONTROL_CHARACTERS, '?');
}

/**
 * One value as it appears after `KEY=`: bare when safe, else single-quoted, which every reader
 * (a shell's `.`, systemd, node) takes literally. A value single quotes cannot hold — one with a
 * `'` — or holding a control character (a newline, a terminal escape) is refused: the values come
 * partly from the connector's answer, and inside double quotes a shell would run a `$(…)` in them.
 */
export function formatEnvValue(value: string): string {
  if (printable(value) !== value)
    throw new RelayError('CORE_ERR_ENV_FILE_WRITE_FAILED', 'env value contains a control character');
  if (BARE.test(value)) return value;
  if (value.includes("'")) {
    throw new RelayError(
      'CORE_ERR_ENV_FILE_WRITE_FAILED',
      "env value contains a ' (no env-file reader takes it literally in every form)",
    );
  }
  return `'${value}'`;
}

/**
 * Merge `updates` into the text of an env file: the first assignment of a key is replaced in
 * place, later duplicates are dropped (a later line would shadow the new value), new keys are
 * appended. Every other line is kept byte for byte. The result ends with a newline.
 */
export function mergeEnvText(existing: string, updates: ReadonlyArray<readonly [string, string]>): string {
  for (const [key] of updates) {
    if (!KEY.test(key)) throw new RelayError('CORE_ERR_ENV_FILE_WRITE_FAILED', `invalid env key ${key}`);
  }
  const pending = new Map(updates.map(([k, v]) => [k, `${k}=${formatEnvValue(v)}`]));
  const written = new Set<string>();
  const lines = existing === '' ? [] : existing.replace(/\r?\n$/, '').split(/\r?\n/);
  const out: string[] = [];
  for (const line of lines) {
    const key = ASSIGNMENT.exec(line)?.[1];
    if (key === undefined || !pending.has(key)) {
      out.push(line);
    } else if (!written.has(key)) {
      out.push(pending.get(key)!);
      written.add(key);
    }
  }
  for (const [key, line] of pending) if (!written.has(key)) out.push(line);
  return `${out.join('\n')}\n`;
}

/**
 * Parse env-file text the way common dotenv readers do: `#` comments, optional `export `,
 * single quotes literal, double quotes with `\n \" \\` escapes, bare values trimmed up to ` #`.
 * The last assignment of a key wins.
 */
export function parseEnvText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = ASSIGNMENT.exec(line);
    if (!m?.[1]) continue;
    out[m[1]] = parseValue(line.slice(m[0].length).trim());
  }
  return out;
}

function parseValue(raw: string): string {
  const q = raw[0];
  if (q === "'" || q === '"') {
    const end = raw.indexOf(q, 1);
    if (end > 0 && q === "'") return raw.slice(1, end);
    if (q === '"') {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(raw);
      if (m) return m[1]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
  }
  // a comment starts at the first `#` after whitespace; found in one pass (the regex it replaces,
  // /\s+#.*$/, tried every run of spaces from each of its positions: a line of 10^6 spaces took
  // about half an hour)
  const comment = /\s#/.exec(raw);
  return (comment ? raw.slice(0, comment.index) : raw).trim();
}

/** The file's text, or `""` when it does not exist. Other read errors throw (named, no content). */
export function readEnvFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw fileError('cannot read', path, err);
  }
}

/**
 * `env` with the settings of the env file `envPath` (relative to `cwd`) on top: the file was
 * named explicitly, so it wins over what the shell exported. Throws, naming the file, when it
 * cannot be read, does not exist or is empty.
 */
export function withEnvFile(env: NodeJS.ProcessEnv, cwd: string, envPath: string): NodeJS.ProcessEnv {
  const path = resolve(cwd, envPath);
  let text: string;
  try {
    text = readEnvFile(path);
  } catch (err) {
    throw new RelayError('CORE_ERR_CONFIG_INVALID', (err as Error).message, { details: { path } });
  }
  if (text === '') {
    throw new RelayError('CORE_ERR_CONFIG_INVALID', `env file ${path} does not exist or is empty`, {
      details: { path },
    });
  }
  // it holds the relay secret and may name the plugin manifest and the agent URL
  const open = openToEveryone(realpathSync(path), 'the env file');
  if (open)
    throw new RelayError('CORE_ERR_CONFIG_INVALID', `env file ${path}: ${open}`, { details: { path } });
  const bad = malformedLine(text);
  if (bad !== undefined) {
    // the line number only: the line may hold a secret
    throw new RelayError(
      'CORE_ERR_CONFIG_INVALID',
      `env file ${path} line ${bad} is not KEY=value: write each setting as NAME=value (a # starts a comment)`,
      { details: { path, line: bad } },
    );
  }
  return { ...env, ...parseEnvText(text) };
}

/**
 * The 1-based number of the first line no reader takes as a setting, if any: not blank, not a
 * comment, not `KEY=…` and not a bare name (docker's pass-through form, or `export NAME`, which a
 * shell that sources the file takes and a dotenv reader skips). Skipped silently, a
 * `GATEWAY_RELAY_URL https://…` left the setting unset and the start failed naming it missing; a
 * shell's `.` fails on such a line too.
 */
function malformedLine(text: string): number | undefined {
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || ASSIGNMENT.test(line) || BARE_NAME.test(trimmed))
      continue;
    return i + 1;
  }
  return undefined;
}

/**
 * Prove the file can be written before anything irreversible happens (an enrolment token is
 * single-use): create and remove a temp file beside it, and read the current file.
 */
export function checkEnvFileWritable(path: string): void {
  readEnvFile(path);
  const tmp = tempPathFor(path);
  try {
    closeSync(openSync(tmp, 'wx', ENV_FILE_MODE));
  } catch (err) {
    throw fileError('cannot write in the directory of', path, err);
  }
  rmSync(tmp, { force: true });
}

/**
 * Replace `path` with `text` atomically: write a 0600 temp file beside it, fsync, rename over the
 * target, then chmod 0600 (also when the file existed with a wider mode).
 */
export function writeEnvFileAtomic(path: string, text: string): void {
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'wx', ENV_FILE_MODE);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    chmodSync(path, ENV_FILE_MODE);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fileError('cannot write', path, err);
  }
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function fileError(what: string, path: string, err: unknown): RelayError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new RelayError('CORE_ERR_ENV_FILE_WRITE_FAILED', `${what} env file ${path} (${code})`, {
    details: { path, errno: code },
  });
}
