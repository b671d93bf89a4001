/**
 * Shared set-up of the ingest pipeline's tests beside inbox-harness.ts: a gate a test opens when it
 * wants, to hold frames inside the hooks. Each test file makes its own plugin host (sharedHost).
 */

/** A promise the test opens when it wants: hooks awaiting `gate` hold their frames until `release()`. */
export function gated(): { gate: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { gate, release };
}
