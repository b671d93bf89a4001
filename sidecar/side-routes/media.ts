/**
 * `POST {base}/relay/media` (relay contract §7): upload raw bytes for a later `send_media`, get
 * back `{id, size}` and the reference URL `{base}/relay/media/{id}`.
 */
import { basename } from 'node:path';
import { z } from 'zod';
import { RelayError } from '../../core/errors.js';
import {
  DEFAULT_SIDE_ROUTE_TIMEOUT_MS,
  type FetchFn,
  postSideRoute,
  routeUrl,
  serverErrorText,
  sideRouteError,
} from './http-client.js';

/** Largest upload the connector accepts, bytes: 25 MiB. Larger ones are refused locally. */
export const MAX_MEDIA_BYTES = 25 * 1024 * 1024;
/** Longest `X-Media-Filename` sent, characters. */
const MAX_FILENAME = 255;

/** The connector's upload answer. */
export const MediaUploadResponseSchema = z.object({
  id: z.string().min(1),
  size: z.number().int().nonnegative(),
});

/** An uploaded media reference. */
export interface MediaUploadResult {
  readonly id: string;
  readonly size: number;
  /** `{base}/relay/media/{id}`: the `source_url` of a `send_media`. */
  readonly url: string;
}

/** Inputs of {@link uploadMedia}. */
export interface MediaUploadInput {
  readonly base: string;
  /** A fresh upgrade token (bearer). */
  readonly token: string;
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** Sent as `X-Media-Filename` (base name only). */
  readonly filename?: string;
  readonly timeoutMs?: number;
  readonly fetch?: FetchFn;
}

const ROUTE = { code: 'CORE_ERR_MEDIA_UPLOAD_FAILED', route: 'media' } as const;

/**
 * Upload media. Throws `RelayError` `CORE_ERR_MEDIA_TOO_LARGE` (before any network I/O) above
 * {@link MAX_MEDIA_BYTES}, and `CORE_ERR_MEDIA_UPLOAD_FAILED` (details `kind`, `status`) otherwise.
 */
export async function uploadMedia(input: MediaUploadInput): Promise<MediaUploadResult> {
  if (input.bytes.byteLength > MAX_MEDIA_BYTES) {
    throw new RelayError(
      'CORE_ERR_MEDIA_TOO_LARGE',
      `media is ${input.bytes.byteLength} bytes; the connector accepts at most ${MAX_MEDIA_BYTES} (25 MiB)`,
      { details: { size: input.bytes.byteLength, limit: MAX_MEDIA_BYTES } },
    );
  }
  const headers: Record<string, string> = {};
  const filename = input.filename === undefined ? '' : headerFilename(input.filename);
  if (filename !== '') headers['x-media-filename'] = filename;
  const res = await postSideRoute({
    ...ROUTE,
    url: routeUrl(input.base, '/relay/media', ROUTE),
    bearer: input.token,
    body: input.bytes,
    contentType: input.contentType || 'application/octet-stream',
    headers,
    timeoutMs: input.timeoutMs ?? DEFAULT_SIDE_ROUTE_TIMEOUT_MS,
    fetch: input.fetch,
  });
  if (res.status < 200 || res.status > 299) {
    const text = serverErrorText(res.json, [input.token]);
    const code = res.status === 413 ? 'CORE_ERR_MEDIA_TOO_LARGE' : ROUTE.code;
    throw sideRouteError(
      { ...ROUTE, code },
      'http',
      `media: HTTP ${res.status}: ${text || 'no error text'}`,
      {
        status: res.status,
      },
    );
  }
  const parsed = MediaUploadResponseSchema.safeParse(res.json);
  if (!parsed.success) {
    throw sideRouteError(ROUTE, 'bad-response', 'media: unexpected answer (expected {id, size})', {
      status: res.status,
    });
  }
  const { id, size } = parsed.data;
  return { id, size, url: routeUrl(input.base, `/relay/media/${encodeURIComponent(id)}`, ROUTE) };
}

/**
 * A file name safe for an HTTP header: base name only (no directories leak), no control
 * characters, capped; non-ASCII is percent-encoded because header values are Latin-1 bytes.
 */
export function headerFilename(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const bare = basename(name.replaceAll('\\', '/')).replace(/[\u0000-\u001f\u007f]/g, '');
  const safe = /^[\x20-\x7e]*$/.test(bare) ? bare : encodeURIComponent(bare);
  return safe.slice(0, MAX_FILENAME).trim();
}
