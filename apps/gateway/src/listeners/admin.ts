import type { FastifyPluginAsync } from 'fastify'
import type { AdminControls } from '../admin/controls.js'
import { adminRoutes } from '../admin/routes.js'
import type { AdminConfig } from '../config/types.js'
import type { Shared } from '../shared.js'
import { createListener, type Listener } from './app.js'

/** The admin listener: health, readiness, metrics, dashboard, purge and upstream management. */
export async function adminListener(
  config: AdminConfig,
  shared: Shared,
  controls: AdminControls,
  extraRoutes?: FastifyPluginAsync,
): Promise<Listener> {
  const listener = createListener({
    name: 'admin',
    refuseConnect: true,
    logger: shared.logger,
    metrics: shared.metrics,
    accessLog: shared.config.log.access,
    routeOf: (request) => request.routeOptions.url ?? 'unmatched',
  })
  await listener.app.register(adminRoutes, { token: config.token, metrics: shared.metrics, controls })
  if (extraRoutes !== undefined) await listener.app.register(extraRoutes)
  return listener
}
