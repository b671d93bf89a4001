/**
 * A child process stopped (SIGSTOP, as a paused container or VM) and continued (SIGCONT): the
 * whole process, its threads included, where a blocked main thread leaves the others running.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Whether process `pid` is stopped (state T in /proc). */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

/**
 * Run `script` (node, `args`); once its output shows `line`, stop it for `pauseMs`, or, when
 * `selfStopping` (the child stops itself right after `line`, at a point the parent's stop could
 * not reach in time), wait for it to be stopped and continue it `pauseMs` later. Resolves with the
 * JSON of its last output line.
 */
export function runStoppedChild<T>(
  script: string,
  args: readonly string[],
  line: string,
  pauseMs: number,
  selfStopping = false,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = child.pid ?? 0;
    const resume = () => setTimeout(() => child.kill('SIGCONT'), pauseMs);
    // a parent's stop landing before the child's own, and continued before it, left it stopped
    const whenStopped = () => (isStopped(pid) ? resume() : setTimeout(whenStopped, 5));
    let out = '';
    let seen = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (seen || !out.includes(line)) return;
      seen = true;
      if (selfStopping) return whenStopped();
      child.kill('SIGSTOP');
      resume();
    });
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as T);
      } catch {
        reject(new Error(`child output: ${out}`));
      }
    });
  });
}
