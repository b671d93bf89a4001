/**
 * Dedupe keys (relay contract section 5): the connector's `bufferId` when present, else
 * `<platform>:<chat_id>:<message_id>` of the event; no key ⇒ no dedupe.
 */

/** The event fields a key is built from. */
export interface KeyedEvent {
  readonly message_id?: string | null;
  readonly source: {
    readonly platform: string;
    readonly chat_id?: string | null;
    readonly message_id?: string | null;
  };
}

/** `<platform>:<chat_id>:<message_id>` of an event, or undefined when it has no message id. */
export function eventDedupeKey(event: KeyedEvent): string | undefined {
  const messageId = event.message_id || event.source.message_id;
  if (!messageId) return undefined;
  // a prefix keeps event keys apart from bufferIds, which are opaque connector strings
  return `evt:${event.source.platform}:${event.source.chat_id ?? ''}:${messageId}`;
}

/** The dedupe key of a buffered frame: its bufferId, prefixed so it never meets an event key. */
export function bufferDedupeKey(bufferId: string): string {
  return `buf:${bufferId}`;
}
