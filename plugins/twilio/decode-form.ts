/**
 * Decode a Twilio webhook body (`application/x-www-form-urlencoded`) with the standard parser.
 * Pure; never throws.
 */

/** The form media type Twilio posts. */
const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/** Decoded form fields, or why the body is not a form. */
export type DecodedForm =
  | { readonly ok: true; readonly params: URLSearchParams }
  | { readonly ok: false; readonly problem: 'content_type' | 'not_utf8' | 'empty' };

/** The media type of the first `content-type` header (lowercased, parameters dropped), if any. */
export function mediaTypeOf(headers: readonly (readonly [string, string])[]): string | undefined {
  const header = headers.find(([name]) => name.toLowerCase() === 'content-type');
  return header ? (header[1].split(';')[0] ?? '').trim().toLowerCase() : undefined;
}

/**
 * Decide whether a forward is form-encoded and parse it. A `content-type` header, when present,
 * must name the form media type (`; charset=…` allowed); when absent the body is parsed anyway and
 * the caller's classification (which needs Twilio's own fields) rejects anything else. Invalid
 * UTF-8 and an empty body are never a form.
 */
export function decodeForm(headers: readonly (readonly [string, string])[], body: Uint8Array): DecodedForm {
  const mediaType = mediaTypeOf(headers);
  if (mediaType !== undefined && mediaType !== FORM_MEDIA_TYPE) return { ok: false, problem: 'content_type' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { ok: false, problem: 'not_utf8' };
  }
  if (text.trim() === '') return { ok: false, problem: 'empty' };
  // URLSearchParams handles `+`, percent-escapes and repeated keys; never split by hand
  return { ok: true, params: new URLSearchParams(text) };
}
