/** Polling until a condition holds, bounded in time: the one wait helper of the tests. */

/**
 * Resolve once `probe()` holds; reject with "`what` not met within `timeoutMs` ms" when it does
 * not in time. Polls every `everyMs`.
 */
export async function until(
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  everyMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
