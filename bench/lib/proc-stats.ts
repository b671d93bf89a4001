/**
 * What the kernel says about a process: resident memory (VmRSS, threads included) and CPU time,
 * read from `/proc` (Linux). Unreadable ⇒ NaN, never a throw: a process may end between reads.
 */
import { readFileSync } from 'node:fs';

/** Resident set size of `pid`, MiB; NaN when unknown. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU time of `pid` (all threads), seconds; NaN when unknown. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces) start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on every Linux this runs on
  } catch {
    return Number.NaN;
  }
}

/** The 1-minute load average of the machine. */
export function load1(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}
