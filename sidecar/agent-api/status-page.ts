/**
 * `GET /`: a small human view of `/v1/status` that refreshes itself. Plain HTML, no script, every
 * value escaped (descriptor labels, plugin names and dead-letter errors come from outside).
 */
import type { StatusBody } from './status.js';

/** Seconds between page refreshes. */
export const STATUS_PAGE_REFRESH_S = 5;

/** Content-Security-Policy of the page: no scripts, no external loads, inline styles only. */
export const STATUS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const row = (key: string, value: unknown) =>
  `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`;

const table = (title: string, rows: readonly string[]) =>
  `<h2>${escapeHtml(title)}</h2><table>${rows.length ? rows.join('') : row('—', 'none')}</table>`;

/** Render the page for one status snapshot. */
export function renderStatusPage(status: StatusBody, refreshS = STATUS_PAGE_REFRESH_S): string {
  const overview = [
    row('state', status.state),
    row('gateway id', status.gateway_id ?? '—'),
    row('uptime (s)', String(status.uptime_s)),
    row('identities', status.identities.map((i) => `${i.platform}/${i.botId || '-'}`).join(', ')),
  ];
  const descriptors = Object.entries(status.descriptors).map(([platform, d]) =>
    row(platform, `${d.label} · contract v${d.contract_version} · ops: ${d.effective_ops.join(', ')}`),
  );
  // pull mode has no health gate: the agent's stream attaching is its sign of life
  const agent = Object.entries(status.agent ?? { mode: 'pull' }).map(([k, v]) => row(k, v));
  const inbox = Object.entries(status.inbox).map(([k, v]) => row(k, v));
  const pool = Object.entries(status.pool).map(([k, v]) => row(k, String(v)));
  const plugins = status.plugins.map((p) => row(String(p.name ?? '?'), p));
  const counters = Object.entries(status.counters).map(([k, v]) => row(k, String(v)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${refreshS}">
<title>relay-sidecar · ${escapeHtml(status.state)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:1em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600}
.state{font-weight:700}
</style>
</head>
<body>
<h1>relay-sidecar <span class="state">${escapeHtml(status.state)}</span></h1>
${table('Overview', overview)}
${table('Descriptors', descriptors)}
${table('Agent', agent)}
${table('Inbox', inbox)}
${table('Worker pool', pool)}
${table('Plugins', plugins)}
${table('Counters', counters)}
<p>Refreshes every ${refreshS} s. Machine-readable: <code>GET /v1/status</code>.</p>
</body>
</html>
`;
}
