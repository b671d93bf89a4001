/**
 * The one clock of the benchmarks: the system-wide monotonic clock (`process.hrtime`, which is
 * CLOCK_MONOTONIC on Linux), in microseconds. Every process of a run reads the same clock, so a
 * timestamp taken in the connector process can be compared with one taken in the agent.
 */

/** Now, in microseconds of the machine's monotonic clock (comparable across processes). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Sleep `ms` milliseconds (the timer does not keep the process alive on its own). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Poll `probe` every `everyMs` until it returns a value other than undefined, or throw after
 * `timeoutMs` with `what` in the message. Bounded in time by construction.
 */
export async function pollUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
