/**
 * Files that choose what the sidecar runs or where its data goes (the config file, an env file,
 * the plugin manifest, a plugin module) must not be changeable by every local user.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/** A file mode as `chmod` takes it (`01777`, `0666`), the special bits included. */
export const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/**
 * Why `file` (a real path, links resolved) may be changed by every local user, else undefined:
 * the file is world-writable, or its directory is and is not sticky (anyone may replace it; in a
 * sticky one like /tmp only its owner may). `what` names the file's role in the reason.
 */
export function openToEveryone(file: string, what: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const mode = statSync(file).mode;
  if ((mode & 0o002) !== 0) {
    return `${file} is writable by every local user (mode ${octal(mode)}): anyone could run code as the sidecar; chmod o-w ${file}`;
  }
  const dir = dirname(file);
  const dirMode = statSync(dir).mode;
  if ((dirMode & 0o002) !== 0 && (dirMode & 0o1000) === 0) {
    return `its directory ${dir} is writable by every local user (mode ${octal(dirMode)}): anyone could replace ${what} and run code as the sidecar; chmod o-w ${dir}`;
  }
  return undefined;
}
