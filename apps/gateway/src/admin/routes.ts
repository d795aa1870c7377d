import type { FastifyInstance, FastifyReply } from 'fastify'
import type { GatewayMetrics } from '../metrics.js'
import { dashboardPage } from '../ops/dashboard-page.js'
import { requireToken } from './auth.js'
import { type AdminControls, ControlError } from './controls.js'

export interface AdminOptions {
  token: string | null
  metrics: GatewayMetrics
  controls: AdminControls
}

const upstreamBody = {
  type: 'object',
  additionalProperties: false,
  required: ['route', 'url'],
  properties: {
    route: { type: 'string', minLength: 1 },
    url: { type: 'string', pattern: '^https?://' },
    weight: { type: 'integer', minimum: 1, maximum: 1000, default: 1 },
  },
} as const

const purgeBody = {
  type: 'object',
  additionalProperties: false,
  // Exactly one of them (Fastify's Ajv strips unknown keys before counting, so say it with oneOf).
  oneOf: [{ required: ['url'] }, { required: ['tag'] }],
  properties: {
    url: { type: 'string', pattern: '^https?://' },
    tag: { type: 'string', minLength: 1 },
  },
} as const

async function run(reply: FastifyReply, action: () => unknown): Promise<unknown> {
  try {
    return { ok: true, result: (await action()) ?? null }
  } catch (err) {
    if (err instanceof ControlError) return reply.code(err.statusCode).send({ error: err.message })
    throw err
  }
}

/** Readiness checks whose failure degrades the service without making this instance unready. */
const DEGRADABLE = new Set(['redis'])

function unsupported(reply: FastifyReply, what: string) {
  return reply.code(501).send({ error: `${what} is not available: the plugin in use does not offer it` })
}

/**
 * The admin API: health, readiness, metrics, a dashboard, and the token-guarded purge and upstream calls.
 * The token is checked in onRequest, before the body is parsed and validated: a caller without it learns
 * nothing about what a valid body looks like (401, never a schema message).
 */
export async function adminRoutes(app: FastifyInstance, options: AdminOptions): Promise<void> {
  const { metrics, controls } = options
  const guard = requireToken(options.token)

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(dashboardPage))

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_request, reply) => {
    const checks = await controls.readiness()
    // Redis is shared by every instance: taking them all out of the balancer for its outage would turn a
    // degraded service (cache bypassed, limits failing open or closed) into none. It is named instead.
    const degraded = Object.keys(checks).filter((k) => DEGRADABLE.has(k) && !checks[k])
    const ready = Object.entries(checks).every(([k, ok]) => ok || DEGRADABLE.has(k))
    return reply.code(ready ? 200 : 503).send({ ready, degraded, checks })
  })

  app.get('/instances', async (_request, reply) => {
    if (controls.instances === undefined) return unsupported(reply, 'the instances list (it needs redis)')
    return controls.instances()
  })

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics()
    return reply.type(metrics.registry.contentType).send(text)
  })

  app.get('/upstreams', async (_request, reply) => {
    if (controls.upstreams === undefined) return unsupported(reply, 'upstream management')
    return { upstreams: controls.upstreams.list() }
  })

  app.post('/purge', { onRequest: guard, schema: { body: purgeBody } }, async (request, reply) => {
    const purge = controls.purge
    if (purge === undefined) return unsupported(reply, 'purge')
    return run(reply, async () => {
      const removed = await purge(request.body as { url?: string; tag?: string })
      return { purged: request.body, removed }
    })
  })

  type UpstreamBody = { route: string; url: string; weight: number }
  app.post('/upstreams', { onRequest: guard, schema: { body: upstreamBody } }, async (request, reply) => {
    const u = controls.upstreams
    if (u === undefined) return unsupported(reply, 'upstream management')
    const { route, url, weight } = request.body as UpstreamBody
    return run(reply, () => u.add(route, url, weight))
  })

  app.post(
    '/upstreams/drain',
    { onRequest: guard, schema: { body: upstreamBody } },
    async (request, reply) => {
      const u = controls.upstreams
      if (u === undefined) return unsupported(reply, 'upstream management')
      const { route, url } = request.body as UpstreamBody
      return run(reply, () => u.drain(route, url))
    },
  )

  app.post(
    '/upstreams/undrain',
    { onRequest: guard, schema: { body: upstreamBody } },
    async (request, reply) => {
      const u = controls.upstreams
      if (u === undefined) return unsupported(reply, 'upstream management')
      const { route, url } = request.body as UpstreamBody
      return run(reply, () => u.undrain(route, url))
    },
  )

  app.delete('/upstreams', { onRequest: guard, schema: { body: upstreamBody } }, async (request, reply) => {
    const u = controls.upstreams
    if (u === undefined) return unsupported(reply, 'upstream management')
    const { route, url } = request.body as UpstreamBody
    return run(reply, () => u.remove(route, url))
  })
}
