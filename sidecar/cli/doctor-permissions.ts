/**
 * The file-permission checks of `relay-sidecar doctor`: the data dir (exists or can be created,
 * writable by us with the store files in it, not by others; by its group with a warning) and the
 * generated api token file (readable by us, mode 0600). Read-only: nothing is created or chmod-ed here; each problem
 * comes with the command that fixes it.
 */
import { accessSync, constants, existsSync, lstatSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../core/config/schema.js';
import { LOCK_FILE, PRIVATE_FILES } from '../../core/store/data-dir-lock.js';
import { DATABASE_FILE, storeFiles } from '../../core/store/database.js';
import { privateFilesProblem } from '../../core/store/private-files.js';
import { API_TOKEN_FILE } from '../agent-api/api-token.js';
import { type CheckResult, fail, ok, warn } from './doctor-checks.js';

const CHECK_MODES = process.platform !== 'win32';
const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/**
 * The data dir exists (or its nearest existing parent lets us create it), is a directory we can
 * write, and is not writable by others (its inbox holds messages, its store plugin state).
 * Writable by its group or readable by others is a warning, as `run` accepts both.
 */
export function checkDataDir(dir: string): CheckResult {
  const name = 'data dir';
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      return fail(name, `${dir} cannot be inspected (${errno(err)})`, `check the permissions of ${dir}`);
    }
    return checkCreatable(name, dir);
  }
  if (!st.isDirectory())
    return fail(name, `${dir} is not a directory`, 'point SIDECAR_DATA_DIR at a directory');
  if (!writable(dir)) {
    return fail(
      name,
      `${dir} is not writable by this user`,
      `chown it to the sidecar's user, or chmod u+rwx ${dir}`,
    );
  }
  // files a start as another user (root) left behind: `run` refuses the lock and the store
  const foreign = STORE_FILES.filter(
    (file) => existsSync(join(dir, file)) && !writable(join(dir, file), false),
  );
  if (foreign.length > 0) {
    const are = foreign.length === 1 ? 'is' : 'are';
    return fail(
      name,
      `${foreign.join(', ')} in ${dir} ${are} not writable by this user`,
      `chown -R <the sidecar's user> ${dir} (and run doctor as that user)`,
    );
  }
  // what `run` refuses: store files that are links or another user's, a directory of another user
  const unsafe = privateFilesProblem(dir, PRIVATE_FILES);
  if (unsafe) return fail(name, unsafe.problem, unsafe.fix);
  if (CHECK_MODES && (st.mode & 0o002) !== 0) {
    return fail(name, `${dir} is world-writable (mode ${octal(st.mode)})`, `chmod 700 ${dir}`);
  }
  // run accepts a group-writable one (a Kubernetes volume with fsGroup is 2775: decisions.md), so
  // it is a warning here, not a failure of a setup the sidecar runs on
  if (CHECK_MODES && (st.mode & 0o020) !== 0) {
    const detail = `${dir} is group-writable (mode ${octal(st.mode)}): members of its group can change the store`;
    return warn(name, detail, `chmod 700 ${dir} unless the group is the sidecar's alone (a pod's fsGroup)`);
  }
  if (CHECK_MODES && (st.mode & 0o005) !== 0) {
    const detail = `${dir} is readable by other users (mode ${octal(st.mode)}): they can read queued messages`;
    return warn(name, detail, `chmod 700 ${dir}`);
  }
  return ok(name, `${dir} (mode ${octal(st.mode)})`);
}

/** A missing data dir: fine when its nearest existing ancestor is a writable directory. */
function checkCreatable(name: string, dir: string): CheckResult {
  let parent = dirname(dir);
  for (;;) {
    try {
      if (!statSync(parent).isDirectory()) break;
      if (!writable(parent)) break;
      return ok(name, `${dir} does not exist yet; it is created (mode 0700) at start`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(parent) === parent) break;
      parent = dirname(parent);
    }
  }
  return fail(
    name,
    `${dir} does not exist and cannot be created under ${parent}`,
    `create it: mkdir -m 700 -p ${dir}`,
  );
}

/**
 * The api token: configured, or its generated file (if present) is a regular file this user can
 * read, with mode 0600.
 */
export function checkApiToken(config: Config, dataDir: string): CheckResult {
  const name = 'api token';
  if (config.api.token) return ok(name, 'set by SIDECAR_API_TOKEN');
  const path = join(dataDir, API_TOKEN_FILE);
  let st: ReturnType<typeof statSync>;
  try {
    // lstat, as run opens it: a symbolic link there is refused, not followed (api-token.ts)
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return ok(name, `${path} is generated (mode 0600) at first start`);
    }
    return fail(name, `${path} cannot be inspected (${errno(err)})`, `check the permissions of ${dataDir}`);
  }
  if (!st.isFile()) {
    const what = st.isSymbolicLink() ? 'a symbolic link, not a regular file' : 'not a regular file';
    return fail(name, `${path} is ${what}`, `remove it; the sidecar generates a new one`);
  }
  const me = process.getuid?.();
  if (me !== undefined && st.uid !== me && st.uid !== 0) {
    const fix = `delete it to generate a new token (its owner knows this one), or set SIDECAR_API_TOKEN`;
    return fail(name, `${path} belongs to another user (uid ${st.uid}), who can read the token`, fix);
  }
  if (!readable(path)) {
    const fix = `chown it to the sidecar's user, delete it to generate a new one, or set SIDECAR_API_TOKEN`;
    return fail(name, `${path} is not readable by this user`, fix);
  }
  if (CHECK_MODES && (st.mode & 0o077) !== 0) {
    const fix = `chmod 600 ${path}; if others may have read it, delete it to generate a new token`;
    return fail(name, `${path} is accessible to other users (mode ${octal(st.mode)})`, fix);
  }
  return ok(name, `${path} (mode ${octal(st.mode)})`);
}

/** The files `run` opens for writing in the data dir, when they exist. */
const STORE_FILES = [...storeFiles(DATABASE_FILE), LOCK_FILE];

/** Writable (and, for a directory, searchable) by this user. */
function writable(path: string, directory = true): boolean {
  try {
    accessSync(path, directory ? constants.W_OK | constants.X_OK : constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}
