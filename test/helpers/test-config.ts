/**
 * A frozen Config for tests: validated by the real schema, with retry and ping timings shortened
 * to 10–200 ms so failure paths run fast, then `overrides` deep-merged on top. Budgets whose
 * expiry would be a failure in an unrelated test (plugin task, handshake, pong) stay at 1–2 s so
 * a loaded CI machine does not trip them; tests about those timeouts set their own.
 */
import { deepMerge, validateConfig } from '../../core/config/load.js';
import type { Config } from '../../core/config/schema.js';

/** Short timings (ms) used by every test unless overridden. */
export const TEST_TIMINGS = {
  relay: {
    handshakeTimeoutMs: 2_000,
    pingIntervalMs: 50,
    pongTimeoutMs: 1_000,
    outboundTimeoutMs: 200,
    backoffBaseMs: 10,
    backoffMaxMs: 50,
    stableAfterMs: 200,
    goingIdleTimeoutMs: 100,
    shutdownGoingIdleTimeoutMs: 50,
    sideRouteTimeoutMs: 200,
  },
  agent: { mode: 'pull', timeoutMs: 200, retryBaseMs: 20, retryMaxMs: 200 },
  pool: { taskTimeoutMs: 2_000, idleTimeoutMs: 200 },
  shutdown: { budgetMs: 2_000 },
  log: { level: 'debug' },
} as const;

/**
 * Build a frozen config from the test timings and `overrides` (nested form, e.g.
 * `{ relay: { url, gatewayId, secret } }`). Throws like the real loader on a bad value.
 */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return validateConfig(deepMerge(structuredClone(TEST_TIMINGS) as Record<string, unknown>, overrides));
}
