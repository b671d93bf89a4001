/**
 * Dedupe keys (relay contract section 5): the connector's `bufferId` when present, else
 * `<platform>:<chat_id>:<message_id>` of the event; no key ⇒ no dedupe. An edit
 * (`source.message_is_edit`) keeps its message's id, so that key alone would drop every edit as a
 * repeat of the original: its key adds a digest of the edited content (docs/decisions.md).
 */
import { createHash } from 'node:crypto';

/** The event fields a key is built from. */
export interface KeyedEvent {
  readonly message_id?: string | null;
  readonly text?: string | null;
  readonly media_urls?: readonly string[] | null;
  readonly source: {
    readonly platform: string;
    readonly chat_id?: string | null;
    readonly message_id?: string | null;
    readonly message_is_edit?: boolean | null;
  };
}

/**
 * `<platform>:<chat_id>:<message_id>` of an event (`…:edit:<digest of text and media>` for an
 * edit), or undefined when it has no message id.
 */
export function eventDedupeKey(event: KeyedEvent): string | undefined {
  const messageId = event.message_id || event.source.message_id;
  if (!messageId) return undefined;
  // a prefix keeps event keys apart from bufferIds, which are opaque connector strings
  const key = `evt:${event.source.platform}:${event.source.chat_id ?? ''}:${messageId}`;
  return event.source.message_is_edit === true ? `${key}:edit:${editDigest(event)}` : key;
}

/** 128 bits of SHA-256 over an edit's content: the same edit repeated is the same event. */
function editDigest(event: KeyedEvent): string {
  const content = JSON.stringify([event.text ?? '', event.media_urls ?? []]);
  return createHash('sha256').update(content, 'utf8').digest('hex').slice(0, 32);
}

/** The dedupe key of a buffered frame: its bufferId, prefixed so it never meets an event key. */
export function bufferDedupeKey(bufferId: string): string {
  return `buf:${bufferId}`;
}
