/**
 * Dependency-injection tokens. Every tsyringe constructor parameter carries `@inject(TOKEN)`
 * with one of these symbols (esbuild/tsx emit no decorator metadata, so nothing is inferred).
 */

/** The frozen {@link import('../config/schema.js').Config}. */
export const CONFIG = Symbol.for('relay-sidecar.config');
/** The root pino logger. */
export const LOGGER = Symbol.for('relay-sidecar.logger');
/** The {@link import('./clock.js').Clock}. */
export const CLOCK = Symbol.for('relay-sidecar.clock');
/** Factory for client WebSockets: `(url, options) => WebSocket`. */
export const SOCKET_FACTORY = Symbol.for('relay-sidecar.socket-factory');
/** The metrics registry ({@link import('../metrics/metrics.js').Metrics}). */
export const METRICS = Symbol.for('relay-sidecar.metrics');
/** The durable store (SQLite). */
export const STORE = Symbol.for('relay-sidecar.store');
/** The relay client (socket + supervisor). */
export const RELAY_CLIENT = Symbol.for('relay-sidecar.relay-client');
/** The plugin host. */
export const PLUGIN_HOST = Symbol.for('relay-sidecar.plugin-host');
/** The inbox. */
export const INBOX = Symbol.for('relay-sidecar.inbox');
