// @proxykit/gateway: the ready-to-run gateway, usable as a library (`startGateway`) and as the
// `proxykit-gateway` CLI.
export type { AdminControls, UpstreamControls, UpstreamView } from './admin/controls.js'
export { ConfigError, loadConfigFile, resolveConfig } from './config/parse.js'
export { configSchema } from './config/schema.js'
export type * from './config/types.js'
export { type Demo, demoConfig, startDemoUpstreams } from './demo.js'
export { type Gateway, type GatewayOptions, startGateway } from './gateway.js'
export type { Listener } from './listeners/app.js'
export { GatewayMetrics } from './metrics.js'
