/**
 * The agent API bearer token: `api.token` (SIDECAR_API_TOKEN) when configured, else a generated
 * one kept in `<dataDir>/api-token` with mode 0600, so the agent (same user) can read it and
 * nobody else can. The token is never logged — only the file's path is.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { API_TOKEN_MIN_LENGTH, API_TOKEN_SHAPE } from '../../core/config/api-token-rule.js';
import type { Config } from '../../core/config/schema.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';

/** File name of the generated token inside the data directory. */
export const API_TOKEN_FILE = 'api-token';
const CHECK_MODES = process.platform !== 'win32';

const unusable = (path: string, why: string, cause?: unknown) =>
  new RelayError(
    'CORE_ERR_API_TOKEN_FILE_UNUSABLE',
    `api token file ${path}: ${why}; fix it, delete it to regenerate, or set SIDECAR_API_TOKEN`,
    cause === undefined ? undefined : { cause },
  );

/** The configured token, else the one in `<dataDir>/api-token` (generated on first use). */
export function resolveApiToken(config: Config, parent: Logger): string {
  const log = parent.child({ component: 'agent-api' });
  if (config.api.token) {
    log.info({ source: 'config' }, 'api token from configuration');
    return config.api.token;
  }
  return ensureApiToken(config.dataDir, log);
}

/**
 * Read `<dataDir>/api-token`, creating it (32 random bytes, hex, mode 0600) when absent or empty.
 * Loose permissions are tightened to 0600 with a warning; a file that cannot be secured or holds
 * a malformed token stops the start with `CORE_ERR_API_TOKEN_FILE_UNUSABLE`.
 */
export function ensureApiToken(dataDir: string, log: Logger): string {
  const path = resolve(join(dataDir, API_TOKEN_FILE));
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw unusable(path, `data directory cannot be created (${(err as NodeJS.ErrnoException).code})`, err);
  }
  const existing = readExisting(path, log);
  if (existing !== undefined) {
    log.info({ path }, 'api token loaded from file');
    return existing;
  }
  const token = randomBytes(32).toString('hex');
  const winner = writeNew(path, token);
  log.info({ path }, winner === token ? 'api token generated' : 'api token loaded from file');
  return winner;
}

/** The token in an existing file; undefined when there is no file or it is empty. */
function readExisting(path: string, log: Logger): string | undefined {
  let mode: number;
  try {
    // lstat: a link would make the token whatever file it points at (and the chmod below hit it)
    const st = lstatSync(path);
    if (st.isSymbolicLink())
      throw unusable(path, 'is a symbolic link; the token file must be a regular file');
    if (!st.isFile()) throw unusable(path, 'is not a regular file');
    // its owner may read it whatever its mode (and chmod it back): root could tighten and use it
    const me = process.getuid?.();
    if (me !== undefined && st.uid !== me && st.uid !== 0) {
      throw unusable(path, `belongs to another user (uid ${st.uid}), who can read the token`);
    }
    mode = st.mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof RelayError) throw err;
    throw unusable(path, `cannot be inspected (${(err as NodeJS.ErrnoException).code})`, err);
  }
  if (CHECK_MODES && (mode & 0o077) !== 0) {
    try {
      chmodSync(path, 0o600);
    } catch (err) {
      throw unusable(
        path,
        `is accessible to other users (mode ${octal(mode)}) and cannot be set to 0600`,
        err,
      );
    }
    log.warn({ path, previousMode: octal(mode) }, 'api token file permissions tightened to 0600');
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw unusable(path, `cannot be read (${(err as NodeJS.ErrnoException).code})`, err);
  }
  // an empty file is a leftover of an interrupted manual edit: regenerate rather than refuse
  if (text === '') return undefined;
  if (text.length < API_TOKEN_MIN_LENGTH || !API_TOKEN_SHAPE.test(text)) {
    throw unusable(
      path,
      `does not hold a token (need ≥ ${API_TOKEN_MIN_LENGTH} printable characters, no spaces)`,
    );
  }
  return text;
}

/**
 * Write `token` atomically with mode 0600 from the first byte (temp file, then link/rename).
 * When another process created the file meanwhile, its token wins and is returned.
 */
function writeNew(path: string, token: string): string {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
    try {
      // link fails with EEXIST instead of replacing: two sidecars starting together agree
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const theirs = readFileSync(path, 'utf8').trim();
      if (theirs !== '') return theirs;
      renameSync(tmp, path); // the existing file is empty: replace it
    }
    return token;
  } catch (err) {
    throw unusable(path, `cannot be written (${(err as NodeJS.ErrnoException).code})`, err);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed into place, or never created
    }
  }
}

const octal = (mode: number) => `0${mode.toString(8)}`;
