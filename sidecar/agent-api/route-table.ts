/**
 * The route table: method + path pattern (`/v1/events/:id/ack`) → route, compiled once.
 * Matching is pure and answers one of four outcomes; the server turns "no route" and "wrong
 * method" into their JSON errors in exactly one place.
 */

/** What the table needs of a route. */
export interface RouteShape {
  readonly method: 'GET' | 'POST';
  /** Literal segments and `:name` parameters, e.g. `/v1/chats/:chat_id`. */
  readonly pattern: string;
}

/** The outcome of matching one request. */
export type RouteMatch<R> =
  | { readonly kind: 'found'; readonly route: R; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'method_not_allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'bad_param'; readonly param: string };

interface Compiled<R> {
  readonly route: R;
  readonly segments: readonly string[];
}

const split = (path: string) => path.split('/').slice(1);

/** A compiled, immutable route table. */
export class RouteTable<R extends RouteShape> {
  private readonly compiled: readonly Compiled<R>[];

  constructor(routes: readonly R[]) {
    const seen = new Set<string>();
    for (const r of routes) {
      const key = `${r.method} ${r.pattern}`;
      if (seen.has(key)) throw new Error(`duplicate route ${key}`);
      seen.add(key);
    }
    this.compiled = routes.map((route) => ({ route, segments: split(route.pattern) }));
  }

  /**
   * Match a method and a path (without query). HEAD is not mapped to GET on purpose: a HEAD on
   * the SSE route must not open a delivery stream.
   */
  match(method: string, path: string): RouteMatch<R> {
    const want = method;
    const parts = split(path);
    const allow = new Set<string>();
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, parts);
      if (params === undefined) continue;
      if (c.route.method !== want) {
        allow.add(c.route.method);
        continue;
      }
      if (typeof params === 'string') return { kind: 'bad_param', param: params };
      return { kind: 'found', route: c.route, params };
    }
    return allow.size > 0 ? { kind: 'method_not_allowed', allow: [...allow].sort() } : { kind: 'not_found' };
  }
}

/**
 * Params of a pattern match; undefined when the path does not fit; the parameter's name when
 * its segment is not valid percent-encoding.
 */
function matchSegments(
  pattern: readonly string[],
  parts: readonly string[],
): Record<string, string> | string | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  let bad: string | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const part = parts[i]!;
    if (p.startsWith(':')) {
      if (part === '') return undefined;
      try {
        params[p.slice(1)] = decodeURIComponent(part);
      } catch {
        bad ??= p.slice(1);
      }
    } else if (p !== part) {
      return undefined;
    }
  }
  return bad ?? params;
}
