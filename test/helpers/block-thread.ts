/**
 * A freeze (SIGSTOP, a paused VM) played in-process: the main thread does nothing for a while,
 * while other threads, peer processes and the kernel go on. On return libuv resumes as from a
 * stop: stopped in a poll- or check-phase callback, the next turn runs the expired timers before
 * it reads what arrived meanwhile (in a timers-phase callback, the loop's older time lets the poll
 * go first: a test that means the former blocks after a socket or port event, or a setImmediate).
 */

/** Keep the calling thread busy for `ms`. */
export function blockThread(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // nothing else runs on this thread meanwhile
  }
}

/**
 * A freeze of `ms` as from `epoll_wait` (a process stopped while idle, the usual case): blocked
 * in a check-phase callback, the next turn runs the expired timers before it polls.
 */
export async function freezeIdle(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  blockThread(ms);
}
