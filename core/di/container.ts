/**
 * The one place registrations happen. Each sidecar instance gets its own child container, so
 * several instances (tests, the demo) never share state; tests register fakes the same way.
 */
import 'reflect-metadata';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { defaultSocketFactory, type SocketFactory } from '../transport/socket-session.js';
import { type Clock, systemClock } from './clock.js';
import { CLOCK, CONFIG, LOGGER, METRICS, SOCKET_FACTORY } from './tokens.js';

/** What a container is built from; clock and socket factory default to the real ones. */
export interface ContainerParts {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  readonly socketFactory?: SocketFactory;
}

/** A child container with the core values registered. */
export function createContainer(parts: ContainerParts): DependencyContainer {
  const child = rootContainer.createChildContainer();
  child.register(CONFIG, { useValue: parts.config });
  child.register(LOGGER, { useValue: parts.log });
  child.register(METRICS, { useValue: parts.metrics });
  child.register(CLOCK, { useValue: parts.clock ?? systemClock });
  child.register(SOCKET_FACTORY, { useValue: parts.socketFactory ?? defaultSocketFactory });
  return child;
}
