/**
 * follow-up: defines and guards the token-less `follow_up` op. The agent answers an interaction
 * (e.g. a Discord slash command) by session key and capability kind; the connector, which holds
 * the interaction token, does the rest. This plugin records each session's capabilities, fills in
 * `kind` and `metadata.profile`, tags the frame's platform and refuses any credential. It never
 * retries: the connector's `success:false` (capability absent, expired, foreign) is final.
 */

import { z } from 'zod';
import { definePlugin, profileOfSessionKey } from '../../core/index.js';
import { findCredentialPath } from './credential-check.js';
import { capabilitiesKey, chooseKind, FollowUpActionSchema, platformOfKind } from './follow-up-action.js';

/** One day, the default lifetime of a session's recorded capabilities. */
const ONE_DAY_MS = 24 * 3600 * 1000;

/** Options of follow-up. */
const OptionsSchema = z.strictObject({
  /**
   * How long a session's recorded capabilities are remembered after the last event that carried
   * them, ms (at least this, at most an hour longer). Default 1 day: longer than any platform
   * token, so an expired capability is reported by the connector, not guessed here.
   */
  ttlMs: z.number().int().positive().default(ONE_DAY_MS),
});

export default definePlugin({
  name: 'follow-up',
  version: '1.0.0',
  options: OptionsSchema,
  ops: { follow_up: FollowUpActionSchema },
  inbound({ sessionKey, capabilities }, ctx) {
    // a plain message later in the session does not revoke what an interaction granted
    if (capabilities.length > 0)
      ctx.store.remember(capabilitiesKey(sessionKey), [...capabilities], ctx.options.ttlMs);
    return undefined;
  },
  outbound: {
    ops: ['follow_up'],
    hook({ action, platform, botId }, ctx) {
      const credential = findCredentialPath(action);
      if (credential) {
        // the key path only, never its value
        ctx.log.warn('follow_up refused', { reason: 'credential_in_follow_up', key: credential });
        return {
          reject: {
            code: 'credential_in_follow_up',
            status: 400,
            message: `follow_up must not carry credentials (key "${credential}"); the connector holds them`,
          },
        };
      }
      const parsed = FollowUpActionSchema.safeParse(action);
      if (!parsed.success) {
        return {
          reject: { code: 'invalid_action', status: 400, message: 'follow_up needs session_key and content' },
        };
      }
      const { session_key: sessionKey, kind: explicit, content, metadata } = parsed.data;
      const choice = chooseKind(explicit, ctx.store.get(capabilitiesKey(sessionKey)));
      if ('problem' in choice) {
        const message =
          choice.problem === 'none'
            ? 'follow_up without kind, and the session has no recorded capability'
            : 'follow_up without kind, and the session has several capabilities: name one';
        return { reject: { code: 'missing_kind', status: 400, message } };
      }
      const outMetadata: Record<string, unknown> = { ...metadata };
      const profile = profileOfSessionKey(sessionKey);
      if (profile && !outMetadata.profile) outMetadata.profile = profile;
      const next = {
        op: 'follow_up',
        session_key: sessionKey,
        kind: choice.kind,
        content,
        metadata: outMetadata,
      };
      const kindPlatform = platformOfKind(choice.kind);
      const identity = ctx.identities.find((i) => i.platform === kindPlatform);
      // tag only a fronted platform: the contract forbids naming one the connector was not told of
      if (identity) return { action: next, platform: identity.platform, botId: botId || identity.botId };
      return { action: next, ...(platform ? { platform } : {}), ...(botId ? { botId } : {}) };
    },
  },
});
