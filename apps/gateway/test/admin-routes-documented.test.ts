import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import Fastify from 'fastify'
import { adminRoutes } from '../src/admin/routes.js'
import { GatewayMetrics } from '../src/metrics.js'
import { opsRoutes } from '../src/ops/admin-routes.js'
import { LiveStats } from '../src/ops/live-stats.js'

/** Every `METHOD /path` the admin listener serves, as registered (Fastify's implicit HEAD routes left out). */
async function adminListenerRoutes(): Promise<string[]> {
  const app = Fastify()
  const routes: string[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`)
  })
  const live = new LiveStats({ read: async () => [] })
  await app.register(adminRoutes, {
    token: 'documented-routes',
    metrics: new GatewayMetrics(),
    controls: { readiness: async () => ({}) },
  })
  await app.register(opsRoutes, {
    token: 'documented-routes',
    live,
    reload: async () => ({ ok: true, applied: [], restartNeeded: [] }),
  })
  await app.ready()
  live.close()
  await app.close()
  return routes
}

/** The first cells of the Markdown table rows of `text`. */
const firstCells = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split(' | ')[0]!)

// Issue 26 item 17: the gateway README's admin table lacked GET /live, GET /live/stream and POST /reload.
test('the gateway README and docs/operations.md list every admin route', async () => {
  const routes = await adminListenerRoutes()
  assert.ok(routes.includes('POST /reload') && routes.includes('GET /live/stream'), routes.join(', '))
  for (const doc of ['../../README.md', '../../../../docs/operations.md']) {
    const cells = firstCells(await readFile(new URL(doc, import.meta.url), 'utf8'))
    const missing = routes.filter((r) => !cells.some((c) => c.includes(`\`${r}\``) || c.includes(`\`${r} `)))
    assert.deepEqual(missing, [], `admin routes missing from ${doc}`)
  }
})
