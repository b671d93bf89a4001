/**
 * The side routes' default HTTP client: undici's `request` in fetch's shape, its body read up to
 * a byte cap (http-client.ts holds the rest of a call: redirects, timeout, errors).
 */
import { type Dispatcher, request } from 'undici';

/** Largest response body read from a side route, bytes (answers are small JSON objects). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** The fetch function used; tests and callers may inject another. */
export type FetchFn = typeof fetch;

/**
 * The default client: undici's `request` (push delivery's and doctor's client) in fetch's shape.
 * fetch() itself refuses the ports of the fetch standard's "bad ports" list (6000, 10080, …)
 * before connecting, where the WebSocket dial to the same connector gets through: enrolment
 * failed with "bad port" against a connector the sidecar could dial. No redirect is followed here
 * either (undici follows none unless asked); {@link postSideRoute} handles them.
 */
export const requestFetch: FetchFn = async (input, init) => {
  const res = await request(input instanceof Request ? input.url : input, {
    method: (init?.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: init?.headers as Record<string, string> | undefined,
    body: init?.body as string | Uint8Array | undefined,
    signal: init?.signal ?? undefined,
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, v);
  }
  // read here, up to one byte past the cap (the caller's check then refuses it), not streamed:
  // node 20's stream adapter threw from a body cancelled mid-way
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) break;
  }
  // a Response may carry no body with these statuses
  const noBody = res.statusCode === 204 || res.statusCode === 205 || res.statusCode === 304;
  return new Response(noBody ? null : Buffer.concat(chunks), { status: res.statusCode, headers });
};
