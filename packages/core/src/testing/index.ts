// Test helpers for proxykit and for apps built on it: real servers on loopback port 0, exact-bytes
// clients and body helpers. Nothing here is a mock.
export { CHROMIUM_PATH, chromiumLaunchOptions, chromiumSkip } from './chromium.js'
export { collectBody, collectText, hashStream, patternStream } from './collect.js'
export { assertErrorBody, type ErrorAnswer } from './error-body.js'
export { type InterimSeen, requestWithInterim } from './interim-client.js'
export {
  type Origin,
  type OriginHandler,
  type OriginOptions,
  type ReceivedRequest,
  startOrigin,
  startTcpOrigin,
  startTlsOrigin,
  type TcpOrigin,
} from './origins.js'
export { parseRawResponse, type RawResponse, rawRequest } from './raw-client.js'
export {
  type RedisCluster,
  type RedisNode,
  type RedisSentinelGroup,
  startRedisCluster,
  startRedisSentinel,
} from './redis.js'
export { type RedisServer, redisForTests, startRedisServer } from './redis-server.js'
export { selfSignedCertificate } from './tls.js'
export { startUnacceptingPort, type UnacceptingPort } from './unaccepting.js'
