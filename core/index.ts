/**
 * The public API of relay-sidecar's core: the only module a plugin imports.
 * Explicit named exports only.
 */

export { type ErrorCode, type ErrorData, RelayError } from './errors.js';
export {
  type ConvertedEvent,
  type ConvertResult,
  definePlugin,
  type ForwardInput,
  type Identity,
  type InboundInput,
  type InboundResult,
  type OutboundInput,
  type OutboundResultVerdict,
  type PluginContext,
  type PluginDefinition,
  type PluginLog,
  type PluginStore,
  type Rejection,
} from './plugin-host/define-plugin.js';
export { type Action, isChatAddressed, isEgressDeclined, type OutboundResult } from './protocol/actions.js';
export { isCredentialKey } from './protocol/credential-key.js';
export {
  type Descriptor,
  type MessageEvent,
  MessageEventSchema,
  type PassthroughForward,
  type Source,
} from './protocol/payloads.js';
export {
  profileOfSessionKey,
  type SessionSource,
  sessionKey,
  sessionNamespace,
} from './protocol/session-key.js';
