/**
 * Server-Sent Events framing for pull delivery: `id:` = delivery id, `event:` = delivery type,
 * `data:` = the envelope JSON (one line: JSON.stringify never emits a raw line break).
 */

/** One SSE event. */
export function sseEvent(id: string, event: string, data: string): string {
  return `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;
}

/** A comment line, ignored by clients; keeps idle proxies from closing the stream. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}

/** Tell the client how long to wait before reconnecting, ms. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}
