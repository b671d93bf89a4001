/**
 * The bound on the descriptors one connection keeps. The contract has one descriptor per hello;
 * each may be as large as a frame, and all are kept for the connection (and shown by
 * `/v1/status`), so a connector sending them for ever more platforms grew memory without limit.
 * An update of a platform already known is always taken.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Descriptor } from '../protocol/payloads.js';

/** Distinct descriptor platforms one connection keeps beyond its hellos. */
export const EXTRA_DESCRIPTORS = 16;

/** True when `descriptor` may be kept; otherwise it is counted and logged (debug) as ignored. */
export function admitDescriptor(
  known: ReadonlyMap<string, Descriptor>,
  descriptor: Descriptor,
  hellos: number,
  deps: { readonly log: Logger; readonly metrics: Metrics },
): boolean {
  if (known.has(descriptor.platform) || known.size < hellos + EXTRA_DESCRIPTORS) return true;
  deps.metrics.framesIgnored.inc({ reason: 'descriptor_limit' });
  deps.log.debug(
    { platform: descriptor.platform.slice(0, 64), kept: known.size },
    'descriptor past the per-connection limit ignored',
  );
  return false;
}
