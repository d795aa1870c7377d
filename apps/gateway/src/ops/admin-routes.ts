import type { FastifyInstance } from 'fastify'
import { requireToken } from '../admin/auth.js'
import type { LiveStats } from './live-stats.js'

/** What a reload did: applied, or refused with the reason (the old configuration then stays). */
export interface ReloadResult {
  ok: boolean
  /** Why the new file was refused (invalid, unreadable, failed to build). */
  error?: string
  /** Sections swapped in (`reverse`, `forward`, `cache` …). */
  applied: string[]
  /** Changes that only a restart applies (listen addresses, admin, redis, workers). */
  restartNeeded: string[]
  /** Worker processes that applied it (with `workers`). */
  workers?: number
}

export interface OpsRoutesOptions {
  token: string | null
  live: LiveStats
  reload: () => Promise<ReloadResult>
}

/**
 * The operations routes beside the admin API: the live feed the dashboard reads (no token: reading is
 * harmless and the admin listener binds to loopback by default) and `POST /reload` (token).
 */
export async function opsRoutes(app: FastifyInstance, options: OpsRoutesOptions): Promise<void> {
  const { live } = options
  app.get('/live', async () => live.snapshot())

  // Server-Sent Events: the whole snapshot first, then one small point per second.
  app.get('/live/stream', (request, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(live.snapshot())}\n\n`)
    const unsubscribe = live.subscribe(() => {
      const s = live.snapshot()
      res.write(
        `event: point\ndata: ${JSON.stringify({ now: s.now, upstreams: s.upstreams, denials: s.denials, totals: s.totals, workers: s.workers })}\n\n`,
      )
    })
    request.raw.socket.once('close', unsubscribe)
    res.once('close', unsubscribe)
  })

  app.post('/reload', { onRequest: requireToken(options.token) }, async (_request, reply) => {
    const result = await options.reload()
    return reply.code(result.ok ? 200 : 422).send(result)
  })
}
