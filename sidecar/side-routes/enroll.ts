/**
 * `POST {base}/relay/enroll` (relay contract §7): trade a single-use enrolment token, under the
 * caller's identity token, for this gateway's long-lived credentials.
 */
import { z } from 'zod';
import {
  DEFAULT_SIDE_ROUTE_TIMEOUT_MS,
  type FetchFn,
  postSideRoute,
  routeUrl,
  serverErrorText,
  sideRouteError,
} from './http-client.js';

/** The connector's enrolment answer; unknown keys are dropped. */
export const EnrollResponseSchema = z.object({
  secret: z.string().min(1),
  deliveryKey: z.string(),
  tenant: z.string(),
  gatewayId: z.string().min(1),
});

/** Credentials returned by a successful enrolment. `secret` and `deliveryKey` are secrets. */
export type EnrollResult = z.infer<typeof EnrollResponseSchema>;

/** Inputs of {@link enroll}. */
export interface EnrollInput {
  /** Connector base URL (http(s) or ws(s), any form `httpBase` accepts). */
  readonly base: string;
  /** Caller identity bearer (`GATEWAY_RELAY_IDENTITY_TOKEN` / `--identity-token`). */
  readonly identityToken: string;
  /** Single-use enrolment token (`--token`). */
  readonly enrollmentToken: string;
  readonly gatewayId: string;
  /** Where the connector may GET to wake this gateway (optional). */
  readonly wakeUrl?: string;
  /** Default {@link DEFAULT_SIDE_ROUTE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  readonly fetch?: FetchFn;
}

const ROUTE = { code: 'CORE_ERR_ENROLL_FAILED', route: 'enroll' } as const;

/**
 * Enrol this gateway. Throws `RelayError` `CORE_ERR_ENROLL_FAILED` with `details.kind` (`http`,
 * `unreachable`, `timeout`, `redirect`, `bad-response`, `bad-url`) and, for HTTP answers,
 * `details.status`. Messages never contain a token or the returned secret.
 */
export async function enroll(input: EnrollInput): Promise<EnrollResult> {
  const body: Record<string, string> = { enrollmentToken: input.enrollmentToken, gatewayId: input.gatewayId };
  if (input.wakeUrl) body.wakeUrl = input.wakeUrl;
  const url = routeUrl(input.base, '/relay/enroll', ROUTE);
  const res = await postSideRoute({
    ...ROUTE,
    url,
    bearer: input.identityToken,
    body: JSON.stringify(body),
    contentType: 'application/json',
    timeoutMs: input.timeoutMs ?? DEFAULT_SIDE_ROUTE_TIMEOUT_MS,
    fetch: input.fetch,
  });
  if (res.status < 200 || res.status > 299) {
    throw sideRouteError(
      ROUTE,
      'http',
      enrollHttpMessage(res.status, serverErrorText(res.json, secretsOf(input))),
      {
        status: res.status,
      },
    );
  }
  const parsed = EnrollResponseSchema.safeParse(res.json);
  if (!parsed.success) {
    // Name the bad keys only: the body may hold a secret.
    const keys = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].join(', ');
    throw sideRouteError(
      ROUTE,
      'bad-response',
      `enroll: unexpected answer from the connector (bad: ${keys})`,
      {
        status: res.status,
      },
    );
  }
  return parsed.data;
}

/** The operator-facing message of a non-2xx enrolment answer. */
export function enrollHttpMessage(status: number, serverError: string): string {
  if (status === 401) return 'identity token rejected (401): check GATEWAY_RELAY_IDENTITY_TOKEN';
  if (status === 403) return 'enrolment token invalid, expired or already used (403): ask for a new one';
  return `HTTP ${status}: ${serverError || 'no error text'}`;
}

function secretsOf(input: EnrollInput): string[] {
  return [input.identityToken, input.enrollmentToken];
}
