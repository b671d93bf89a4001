/**
 * The connector side of the side routes (relay contract §7), in memory: enroll, provision,
 * relevance policy, media upload and download. Mounted as the dev connector's `sideRoutes`, it
 * lets tests, the demo and `relay-sidecar connector` exercise the real clients over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { verifyToken } from '../../core/transport/auth-token.js';

/** Options of {@link createSideRoutes}. All optional. */
export interface SideRoutesOptions {
  /** Accepted identity bearers for enroll/provision; undefined ⇒ any non-empty bearer (dev). */
  identityTokens?: readonly string[];
  /** Single-use enrolment tokens (optionally with a tenant); undefined ⇒ any token, once. */
  enrollmentTokens?: ReadonlyMap<string, { tenant?: string }> | readonly string[];
  /** Extra secret of a gateway, for upgrade-token bearers (policy, media), besides issued ones. */
  secretFor?(gatewayId: string): string | undefined;
  /** Replaces upgrade-token verification for policy and media entirely. */
  policyVerify?(token: string): boolean;
  /** Tenant of issued credentials; default `dev-tenant`. */
  tenant?: string;
  /** Told about every secret issued (e.g. to add it to the dev connector's rotation list). */
  onIssue?(gatewayId: string, secret: string): void;
  /** Clock for token expiry, unix seconds; default now. */
  nowS?(): number;
  /** Largest media upload, bytes; default 25 MiB. */
  maxMediaBytes?: number;
  /** Most media items kept (oldest evicted); default 100. */
  maxMediaItems?: number;
}

/** One side-route request as answered. Bodies never hold a token or a secret. */
export interface SideRouteCall {
  route: 'enroll' | 'provision' | 'policy' | 'media' | 'media-get';
  status: number;
  gatewayId?: string;
  body?: Record<string, unknown>;
}

/** The mounted side routes and what they saw. */
export interface SideRoutes {
  /** The request handler: true when the request was a side route (it is being answered). */
  handler(req: IncomingMessage, res: ServerResponse): boolean;
  /** Every answered call, in order. */
  readonly calls: SideRouteCall[];
  /** Secrets issued to a gateway, newest first. */
  secretsFor(gatewayId: string): string[];
  /** Declared policies by `<gatewayId>:<platform>`. */
  readonly policies: Map<string, Record<string, unknown>>;
  /** Uploaded media by id. */
  readonly media: Map<string, { bytes: Buffer; contentType: string; filename?: string }>;
}

const MAX_JSON_BYTES = 64 * 1024;
const EnrollBody = z.object({
  enrollmentToken: z.string().min(1),
  gatewayId: z.string().min(1),
  wakeUrl: z.string().optional(),
});
const ProvisionBody = z.object({
  gatewayId: z.string().min(1),
  platform: z.string().min(1),
  botId: z.string(),
  gatewayEndpoint: z.string(),
  routeKeys: z.array(z.string()),
  instanceId: z.string().optional(),
  wakeUrl: z.string().optional(),
});
const PolicyBody = z.strictObject({
  platform: z.string().min(1),
  requireAddress: z.boolean(),
  freeResponseScopes: z.array(z.string()),
  allowOtherBots: z.boolean(),
});

type Reply = { status: number; body: unknown; gatewayId?: string; record?: Record<string, unknown> };

/** Build the in-memory side routes. */
export function createSideRoutes(options: SideRoutesOptions = {}): SideRoutes {
  const tenant = options.tenant ?? 'dev-tenant';
  const nowS = options.nowS ?? (() => Date.now() / 1000);
  const maxMedia = options.maxMediaBytes ?? 25 * 1024 * 1024;
  const issued = new Map<string, { secrets: string[]; deliveryKey: string }>();
  const unused = enrollmentSet(options.enrollmentTokens);
  const used = new Set<string>();
  const calls: SideRouteCall[] = [];
  const policies = new Map<string, Record<string, unknown>>();
  const media = new Map<string, { bytes: Buffer; contentType: string; filename?: string }>();

  const identityOk = (req: IncomingMessage) => {
    const t = bearerOf(req);
    return t !== undefined && (options.identityTokens === undefined || options.identityTokens.includes(t));
  };
  const gatewayOf = (req: IncomingMessage): string | undefined => {
    const t = bearerOf(req);
    if (t === undefined) return undefined;
    if (options.policyVerify) return options.policyVerify(t) ? (payloadOf(t) ?? '') : undefined;
    const gid = payloadOf(t);
    if (gid === undefined) return undefined;
    const extra = options.secretFor?.(gid);
    const v = verifyToken(t, [...(issued.get(gid)?.secrets ?? []), ...(extra ? [extra] : [])], nowS());
    return v.ok ? v.payload : undefined;
  };
  const issue = (gatewayId: string, rotate: boolean) => {
    const prev = issued.get(gatewayId);
    if (prev && !rotate) return { secret: prev.secrets[0]!, deliveryKey: prev.deliveryKey };
    const secret = randomBytes(32).toString('hex');
    const deliveryKey = prev?.deliveryKey ?? randomBytes(32).toString('hex');
    // Keep the previous secret valid too: a rotation window, like a real connector.
    issued.set(gatewayId, { secrets: [secret, ...(prev?.secrets.slice(0, 1) ?? [])], deliveryKey });
    options.onIssue?.(gatewayId, secret);
    return { secret, deliveryKey };
  };

  const routes: Record<string, (req: IncomingMessage, raw: Buffer) => Reply> = {
    enroll(req, raw) {
      if (!identityOk(req)) return { status: 401, body: { error: 'identity token rejected' } };
      const b = EnrollBody.safeParse(parseJson(raw));
      if (!b.success)
        return { status: 400, body: { error: 'body must be {enrollmentToken, gatewayId, wakeUrl?}' } };
      const { enrollmentToken, gatewayId, wakeUrl } = b.data;
      const known = unused === undefined || unused.has(enrollmentToken);
      if (!known || used.has(enrollmentToken)) {
        return {
          status: 403,
          body: { error: 'enrolment token invalid, expired or already used' },
          gatewayId,
        };
      }
      used.add(enrollmentToken);
      const t = unused?.get(enrollmentToken)?.tenant ?? tenant;
      const creds = issue(gatewayId, true);
      return {
        status: 200,
        body: { ...creds, tenant: t, gatewayId },
        gatewayId,
        record: { gatewayId, wakeUrl },
      };
    },
    provision(req, raw) {
      if (!identityOk(req)) return { status: 401, body: { error: 'identity token rejected' } };
      const b = ProvisionBody.safeParse(parseJson(raw));
      if (!b.success) return { status: 400, body: { error: 'invalid provision body' } };
      // Idempotent on the secret: N platforms under one gateway id share one secret.
      const creds = issue(b.data.gatewayId, false);
      const body = {
        ...creds,
        tenant,
        gatewayId: b.data.gatewayId,
        routeKeys: b.data.routeKeys,
        secretIssued: true,
      };
      return { status: 200, body, gatewayId: b.data.gatewayId, record: b.data };
    },
    policy(req, raw) {
      const gatewayId = gatewayOf(req);
      if (gatewayId === undefined) return { status: 401, body: { error: 'invalid upgrade token' } };
      const b = PolicyBody.safeParse(parseJson(raw));
      if (!b.success) return { status: 400, body: { error: 'invalid policy body' }, gatewayId };
      policies.set(`${gatewayId}:${b.data.platform}`, b.data);
      return { status: 200, body: { ok: true }, gatewayId, record: b.data };
    },
    media(req, raw) {
      const gatewayId = gatewayOf(req);
      if (gatewayId === undefined) return { status: 401, body: { error: 'invalid upgrade token' } };
      const id = randomBytes(16).toString('hex');
      const filename = headerOf(req, 'x-media-filename');
      media.set(id, {
        bytes: raw,
        contentType: headerOf(req, 'content-type') ?? 'application/octet-stream',
        filename,
      });
      while (media.size > (options.maxMediaItems ?? 100)) media.delete(media.keys().next().value!);
      return {
        status: 200,
        body: { id, size: raw.length },
        gatewayId,
        record: { id, size: raw.length, filename },
      };
    },
  };

  const handler = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = new URL(req.url ?? '/', 'http://connector').pathname;
    const got = /\/relay\/media\/([^/]+)$/.exec(path);
    if (got && req.method === 'GET') {
      const item = media.get(safeDecode(got[1]!));
      calls.push({ route: 'media-get', status: item ? 200 : 404 });
      if (!item) send(res, 404, { error: 'no such media' });
      else
        res
          .writeHead(200, { 'content-type': item.contentType, 'content-length': item.bytes.length })
          .end(item.bytes);
      return true;
    }
    const name = /\/relay\/(enroll|provision|policy|media)$/.exec(path)?.[1] as
      | SideRouteCall['route']
      | undefined;
    if (!name) return false;
    if (req.method !== 'POST') {
      send(res, 405, { error: 'POST only' });
      return true;
    }
    const limit = name === 'media' ? maxMedia : MAX_JSON_BYTES;
    readCapped(req, limit).then(
      (raw) => {
        const reply: Reply = raw
          ? routes[name]!(req, raw)
          : { status: 413, body: { error: `body larger than ${limit} bytes` } };
        const call: SideRouteCall = { route: name, status: reply.status };
        if (reply.gatewayId !== undefined) call.gatewayId = reply.gatewayId;
        if (reply.record) call.body = reply.record;
        calls.push(call);
        send(res, reply.status, reply.body);
      },
      () => res.destroy(),
    );
    return true;
  };

  return { handler, calls, policies, media, secretsFor: (gid) => [...(issued.get(gid)?.secrets ?? [])] };
}

function enrollmentSet(
  tokens: SideRoutesOptions['enrollmentTokens'],
): Map<string, { tenant?: string }> | undefined {
  if (tokens === undefined) return undefined;
  if (tokens instanceof Map) return new Map(tokens);
  return new Map((tokens as readonly string[]).map((t) => [t, {}]));
}

function bearerOf(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** The payload (gateway id) of an upgrade token, without verifying it. */
function payloadOf(token: string): string | undefined {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const sig = text.lastIndexOf(':');
  const exp = sig > 0 ? text.lastIndexOf(':', sig - 1) : -1;
  return exp > 0 ? text.slice(0, exp) : undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The whole body, or undefined when it exceeds `limit` (the rest is drained, not stored). */
function readCapped(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
