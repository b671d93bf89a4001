/**
 * Classify a decoded Twilio webhook and turn a message or a voice input into a MessageEvent
 * (spec/plugins.md, twilio). Pure.
 */

/** Why a webhook made no event. */
export type TwilioDropReason = 'status_callback' | 'malformed';

/** An event, or a drop with its reason. */
export type TwilioOutcome =
  | { readonly event: Record<string, unknown> }
  | { readonly drop: TwilioDropReason; readonly detail: string };

/** Twilio sends at most 10 attachments; a larger NumMedia is clamped, never trusted. */
const MAX_MEDIA = 10;

/** A media kind from a MIME type: `image`, `audio`, `video`, else `document`. */
export function mediaKind(mime: string | null | undefined): 'image' | 'audio' | 'video' | 'document' {
  const top = (mime ?? '').split('/')[0]?.trim().toLowerCase();
  return top === 'image' || top === 'audio' || top === 'video' ? top : 'document';
}

/** The attachments of a message, `MediaUrl{i}` / `MediaContentType{i}` for i < NumMedia. */
export function mediaOf(params: URLSearchParams): { url: string; mime: string | null; kind: string }[] {
  const count = Math.min(Number.parseInt(params.get('NumMedia') ?? '0', 10) || 0, MAX_MEDIA);
  const media: { url: string; mime: string | null; kind: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    const url = params.get(`MediaUrl${i}`);
    if (!url) continue;
    const mime = params.get(`MediaContentType${i}`);
    media.push({ url, mime, kind: mediaKind(mime) });
  }
  return media;
}

/** A non-empty form value, or undefined. */
function value(params: URLSearchParams, key: string): string | undefined {
  const v = params.get(key);
  return v === null || v === '' ? undefined : v;
}

/**
 * True when the webhook carries something a person sent: a body, media, a quick reply, speech or
 * digits. Status callbacks carry none of these; an empty speech result (silence) counts as none.
 */
function hasContent(params: URLSearchParams): boolean {
  return (
    params.has('Body') ||
    mediaOf(params).length > 0 ||
    params.has('ButtonText') ||
    params.has('ButtonPayload') ||
    value(params, 'SpeechResult') !== undefined ||
    value(params, 'Digits') !== undefined
  );
}

/** Convert one webhook; `profile` is the forward's profile. */
export function formToEvent(params: URLSearchParams, profile?: string | null): TwilioOutcome {
  // checked first: a delivery receipt also carries MessageSid and From
  if ((params.has('MessageStatus') || params.has('CallStatus')) && !hasContent(params)) {
    return {
      drop: 'status_callback',
      detail: params.has('MessageStatus') ? 'message status' : 'call status',
    };
  }
  const base = { profile: profile || null, scope_id: value(params, 'To') ?? null };
  const from = value(params, 'From');
  const messageSid = value(params, 'MessageSid');
  if (messageSid && from) return { event: messagingEvent(params, from, messageSid, base) };
  const callSid = value(params, 'CallSid');
  const input = value(params, 'SpeechResult') ?? value(params, 'Digits');
  if (callSid && from && input !== undefined) {
    const messageId = `${callSid}:${value(params, 'SequenceNumber') ?? '0'}`;
    const source = {
      platform: 'voice',
      chat_type: 'dm',
      chat_id: from,
      user_id: from,
      message_id: messageId,
      ...base,
    };
    return { event: { text: input, message_type: 'text', message_id: messageId, source } };
  }
  return { drop: 'malformed', detail: 'not a Twilio message, voice input or status callback' };
}

/** SMS, MMS or WhatsApp: text, media, quick replies. */
function messagingEvent(
  params: URLSearchParams,
  from: string,
  messageSid: string,
  base: { profile: string | null; scope_id: string | null },
): Record<string, unknown> {
  const media = mediaOf(params);
  const buttonText = params.get('ButtonText');
  const buttonPayload = params.get('ButtonPayload');
  let messageType = media[0]?.kind ?? 'text';
  if (buttonPayload?.startsWith('/')) messageType = 'command';
  const event: Record<string, unknown> = {
    text: buttonText ?? params.get('Body') ?? '',
    message_type: messageType,
    message_id: messageSid,
    source: {
      platform: from.startsWith('whatsapp:') ? 'whatsapp' : 'sms',
      chat_type: 'dm',
      chat_id: from,
      user_id: from,
      user_name: value(params, 'ProfileName') ?? null,
      message_id: messageSid,
      ...base,
    },
  };
  if (media.length > 0) {
    event.media_urls = media.map((m) => m.url);
    event.media = media;
  }
  // the machine-readable id of the tapped quick reply, kept for the agent (unknown keys pass)
  if (buttonPayload !== null) event.button_payload = buttonPayload;
  return event;
}
