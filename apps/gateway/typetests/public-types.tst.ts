// The types @proxykit/gateway publishes for programmatic use, as seen through the package's exports.
import {
  type Gateway,
  type GatewayConfig,
  type GatewayMetrics,
  loadConfigFile,
  resolveConfig,
  startGateway,
} from '@proxykit/gateway'
import { describe, expect, test } from 'tstyche'

describe('@proxykit/gateway', () => {
  test('a document resolves to a GatewayConfig, a file loads to one', () => {
    expect(resolveConfig({})).type.toBe<GatewayConfig>()
    expect(resolveConfig).type.toBeCallableWith({ reverse: {} }, 'gateway.yaml')
    expect(loadConfigFile('gateway.yaml')).type.toBe<Promise<GatewayConfig>>()
  })

  test('startGateway takes a resolved config and gives a Gateway', () => {
    expect(startGateway(resolveConfig({}))).type.toBe<Promise<Gateway>>()
    expect(startGateway).type.not.toBeCallableWith('gateway.yaml')
    expect<Gateway['metrics']>().type.toBe<GatewayMetrics>()
    expect<Gateway['config']>().type.toBe<GatewayConfig>()
  })
})
