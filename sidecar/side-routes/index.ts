/**
 * The side-route clients (relay contract §7): enroll, provision (and boot self-provision),
 * relevance policy, media upload. Explicit named exports only.
 */

export {
  type BootProvisionOptions,
  bootProvision,
  defaultGatewayId,
  type ProvisionedCredentials,
} from './boot-provision.js';
export { type EnrollInput, type EnrollResult, enroll, enrollHttpMessage } from './enroll.js';
export {
  DEFAULT_SIDE_ROUTE_TIMEOUT_MS,
  type FetchFn,
  type SideRouteFailureKind,
} from './http-client.js';
export {
  headerFilename,
  MAX_MEDIA_BYTES,
  type MediaUploadInput,
  type MediaUploadResult,
  uploadMedia,
} from './media.js';
export {
  isDefaultPolicy,
  type PolicyOutcome,
  type PostPoliciesOptions,
  postPolicies,
  postPolicy,
  type RelevancePolicy,
} from './policy.js';
export { type ProvisionInput, type ProvisionResult, provision } from './provision.js';
