import type { ConvertOutcome, InboundOutcome } from '../../core/plugin-host/outcomes.js';
import type { MessageEvent, PassthroughForward } from '../../core/protocol/payloads.js';
import { type SessionKeyOptions, sessionKey } from '../../core/protocol/session-key.js';
import { eventDedupeKey } from './dedupe-key.js';
import { type EnvelopeOrigin, encodeMessageEnvelope, newDeliveryId, type OriginFrame } from './envelope.js';
import type { FrameOutcome, PreparedEvent } from './frame-outcome.js';

/** What ingest needs of the plugin host (structurally satisfied by `PluginHost`). */
export interface IngestPlugins {
  convertForward(forward: PassthroughForward): Promise<ConvertOutcome>;
  runInbound(input: {
    event: MessageEvent;
    sessionKey: string;
    capabilities: string[];
  }): Promise<InboundOutcome>;
}

/** What processing one frame needs. */
export interface ProcessContext {
  readonly plugins: IngestPlugins;
  readonly session: SessionKeyOptions;
}

/** Facts of the frame being processed. */
export interface FrameFacts {
  readonly frame: OriginFrame;
  readonly bufferId?: string;
  readonly receivedAt: number;
}

/** An `inbound` frame's event through the inbound hooks. */
export function processInbound(
  event: MessageEvent,
  facts: FrameFacts,
  ctx: ProcessContext,
): Promise<FrameOutcome> {
  return hookEvents([{ event, capabilities: [] }], facts, undefined, ctx);
}

/** A `passthrough_forward` through its converting plugin, then the inbound hooks. */
export async function processForward(
  forward: PassthroughForward,
  facts: FrameFacts,
  ctx: ProcessContext,
): Promise<FrameOutcome> {
  const converted = await ctx.plugins.convertForward(forward);
  switch (converted.kind) {
    case 'rejected':
      // normal traffic that needs no event (ping, status callback): acked, not dead-lettered
      if (converted.benign) return { kind: 'consumed', reason: converted.reason };
      return {
        kind: 'poison',
        code: 'CORE_ERR_PLUGIN_REJECTED',
        message: `${converted.plugin}: ${converted.reason}`,
      };
    case 'disabled':
      return {
        kind: 'poison',
        code: 'CORE_ERR_PLUGIN_PLATFORM_DISABLED',
        message: `no enabled plugin converts platform "${converted.platform}"`,
      };
    case 'failed':
      return { kind: 'transient', code: converted.error.code, message: converted.error.message };
    case 'events':
      if (converted.events.length === 0) return { kind: 'consumed', reason: 'no events' };
      return hookEvents(converted.events, facts, converted.plugin, ctx);
  }
}

/** Run the inbound hooks on each event in turn; one failure fails the whole frame. */
async function hookEvents(
  events: readonly { readonly event: MessageEvent; readonly capabilities: readonly string[] }[],
  facts: FrameFacts,
  plugin: string | undefined,
  ctx: ProcessContext,
): Promise<FrameOutcome> {
  const origin: EnvelopeOrigin = {
    frame: facts.frame,
    ...(plugin ? { plugin } : {}),
    ...(facts.bufferId ? { buffer_id: facts.bufferId } : {}),
  };
  const prepared: PreparedEvent[] = [];
  for (const input of events) {
    const before = sessionKey(input.event.source, ctx.session);
    const hooked = await ctx.plugins.runInbound({
      event: input.event,
      sessionKey: before,
      capabilities: [...input.capabilities],
    });
    if (hooked.kind === 'failed') {
      return { kind: 'transient', code: hooked.error.code, message: hooked.error.message };
    }
    if (hooked.kind === 'dropped') continue;
    // hooks may have changed the source, so a replaced event is keyed again from what is delivered
    const key = hooked.event === input.event ? before : sessionKey(hooked.event.source, ctx.session);
    const id = newDeliveryId();
    prepared.push({
      id,
      type: 'message',
      sessionKey: key,
      envelope: encodeMessageEnvelope(id, key, facts.receivedAt, hooked.event, hooked.capabilities, origin),
      // frames with a bufferId dedupe on it; others on the event's own key, taken before the hooks
      ...(facts.bufferId ? {} : { dedupeKey: eventDedupeKey(input.event) }),
    });
  }
  if (prepared.length === 0) return { kind: 'consumed', reason: 'dropped by inbound hooks' };
  return { kind: 'events', events: prepared };
}
