/**
 * The data directory must be this user's alone before the store is opened in it: a directory
 * anyone may write to, or a store file another user placed there, gives that user the store —
 * queued messages, interaction tokens, plugin state — to read, and rows to add that the sidecar
 * then delivers to the agent, signed. The process umask (077) makes the files the sidecar creates
 * private, not the ones it finds. Root's files are not another user's (root can do this anyway).
 */
import { lstatSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { octal } from '../config/open-to-everyone.js';

const CHECK_OWNERS = process.platform !== 'win32';

/** What is wrong, and what fixes it. */
export interface PrivateFilesProblem {
  readonly problem: string;
  readonly fix: string;
}

/** Absent, or out of this user's reach (the writability check that follows names it). */
function unseen(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EACCES';
}

/** Who may own the data directory and the store's files: this user, or root. */
function foreignOwner(st: Stats): boolean {
  const me = process.getuid?.();
  return me !== undefined && st.uid !== me && st.uid !== 0;
}

/**
 * The problem when `dir` is world-writable or owned by another user, or when one of `files`
 * (names inside `dir`) exists as a symbolic link or a file of another user; else undefined. A
 * missing `dir` or file passes (what the sidecar creates is its own), and so does one this user
 * cannot inspect (it cannot open it either: the writability check says so).
 */
export function privateFilesProblem(dir: string, files: readonly string[]): PrivateFilesProblem | undefined {
  if (!CHECK_OWNERS) return undefined;
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    if (unseen(err)) return undefined;
    throw err;
  }
  if ((st.mode & 0o002) !== 0) {
    return {
      problem: `${dir} is world-writable (mode ${octal(st.mode)}): another local user could place or replace the store's files`,
      fix: `chmod 700 ${dir}`,
    };
  }
  if (foreignOwner(st)) {
    return {
      problem: `${dir} belongs to another user (uid ${st.uid}), who could replace the store's files`,
      fix: 'chown it to this user, or run as its owner',
    };
  }
  for (const name of files) {
    const path = join(dir, name);
    let file: Stats;
    try {
      file = lstatSync(path);
    } catch (err) {
      if (unseen(err)) continue;
      throw err;
    }
    if (file.isSymbolicLink()) {
      return {
        problem: `${path} is a symbolic link; the store's files must be regular files of this user`,
        fix: 'remove it',
      };
    }
    if (foreignOwner(file)) {
      return {
        problem: `${path} belongs to another user (uid ${file.uid}), who could read and change it`,
        fix: 'remove it, or run as its owner',
      };
    }
  }
  return undefined;
}
