/**
 * The rule for the agent API's bearer token, one for both sources: `api.token`
 * (SIDECAR_API_TOKEN), checked at load, and the generated `<dataDir>/api-token` file, checked when
 * read (sidecar/agent-api/api-token.ts).
 */
import { z } from 'zod';

/** Shortest token accepted, characters. */
export const API_TOKEN_MIN_LENGTH = 16;

/**
 * Printable ASCII without spaces: a bearer is one run of non-blank characters in the
 * `Authorization` header, so a token with a space can never be presented, and a header's
 * non-ASCII bytes are read as latin1 whatever the client encoded them in.
 */
export const API_TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** How to make a token that passes, for messages. */
const MAKE_ONE =
  'make one with `openssl rand -hex 32`, or unset it and one is generated into <data dir>/api-token';

/** `api.token`: optional; never echoed in a message (config errors name keys, not values). */
export const ApiTokenSchema = z
  .string()
  .min(API_TOKEN_MIN_LENGTH, `must be at least ${API_TOKEN_MIN_LENGTH} characters: ${MAKE_ONE}`)
  .regex(
    API_TOKEN_SHAPE,
    `must be printable ASCII without spaces (an Authorization header carries it as one word): ${MAKE_ONE}`,
  )
  .optional();
