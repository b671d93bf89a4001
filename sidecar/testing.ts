/**
 * `relay-sidecar/testing`: what a plugin author outside this repository needs to test a plugin
 * for real (docs/plugins.md §8) — the plugin host the sidecar itself runs (pool, worker import,
 * option parsing, store) and the loopback dev connector. Not part of the plugin API: a plugin
 * imports only `relay-sidecar`; its tests import this.
 */
export { validateConfig } from '../core/config/load.js';
export { createLogger } from '../core/log/logger.js';
export { Metrics } from '../core/metrics/metrics.js';
export {
  type ConvertOutcome,
  type InboundOutcome,
  type OutboundOutcome,
  PluginHost,
  type PluginHostOptions,
} from '../core/plugin-host/plugin-host.js';
export {
  type DescriptorFn,
  DevConnector,
  type DevConnectorOptions,
  defaultDescriptor,
  type RecordedFrame,
  type RespondFn,
} from './dev-connector/index.js';
