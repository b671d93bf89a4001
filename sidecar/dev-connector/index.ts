/**
 * The dev connector: a loopback relay connector for tests, the demo, dev mode and plugin authors
 * (the `relay-sidecar connector` CLI wraps it).
 */
export { defaultDescriptor } from './default-descriptor.js';
export { DevConnector } from './dev-connector.js';
export type {
  DescriptorFn,
  DevConnectorOptions,
  HelloFrame,
  OutboundFrame,
  RecordedFrame,
  RespondFn,
  UpgradeRecord,
} from './options.js';
export type { FrameListener } from './recorder.js';
export {
  createSideRoutes,
  type SideRouteCall,
  type SideRoutes,
  type SideRoutesOptions,
} from './side-routes.js';
export { authorizeUpgrade, isRelayPath, type UnauthorizedReason } from './upgrade-auth.js';
