import accessControl from '@proxykit/access-control'
import cache from '@proxykit/cache'
import forwardProxy from '@proxykit/forward-proxy'
import { forwardAccessOptions } from '../compose/access.js'
import { clientCheck, refuseClients } from '../compose/clients.js'
import { forwardProxyOptions } from '../compose/forward.js'
import type { ForwardConfig } from '../config/types.js'
import type { Shared } from '../shared.js'
import { createListener, type Listener } from './app.js'

/** The forward listener: access control (destinations, auth, rate limit), the cache, the forward proxy. */
export async function forwardListener(config: ForwardConfig, shared: Shared): Promise<Listener> {
  const listener = createListener({
    name: 'forward',
    clientTimeouts: config.clientTimeouts,
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    proxyProtocol: config.proxyProtocol,
    // An HTTPS proxy speaks HTTP/1.1 only: CONNECT over HTTP/2 (RFC 8441/9113 §8.5) is another protocol.
    ...(shared.tls.forward === null ? {} : { tls: { store: shared.tls.forward, http2: false } }),
    logger: shared.logger,
    metrics: shared.metrics,
    accessLog: shared.config.log.access,
    routeOf: (request) => {
      const form = request.proxy?.form
      return form === 'authority' ? 'connect' : form === 'absolute' ? 'http' : 'other'
    },
  })
  const app = listener.app
  const clients = clientCheck(config.clients)
  if (clients !== null) {
    const checks = [{ rule: 'forward.clients', check: clients }]
    refuseClients(app, () => checks)
  }
  const access = forwardAccessOptions(config)
  if (shared.redis !== null && access.rateLimit !== undefined) {
    access.rateLimit = {
      ...access.rateLimit,
      redis: shared.redis,
      nameSpace: `${shared.redisPrefix}ratelimit:forward:`,
      // While Redis is down: fail-open lets requests through, fail-closed refuses them.
      skipOnError: shared.config.redis?.rateLimits !== 'fail-closed',
    }
  }
  await app.register(accessControl, access)
  if (config.cache) {
    await app.register(cache, shared.cacheOptions())
    shared.caches.push({ listener: 'forward', app })
  }
  await app.register(forwardProxy, { ...forwardProxyOptions(config), ownAddresses: shared.ownAddresses })
  return listener
}
