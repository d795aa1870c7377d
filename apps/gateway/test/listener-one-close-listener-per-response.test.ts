import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import pino from 'pino'
import { createListener, listen } from '../src/listeners/app.js'
import { GatewayMetrics } from '../src/metrics.js'

// What the listener adds to each response is one 'close' listener, shared by every response: the
// in-flight count, the socket bookkeeping and the access log's line for a response that never finished
// all run from it (each listener Node emits to is a cost per request). With the access log on or off,
// the response has one 'close' listener more than on a bare Fastify with a logger; and a client that
// leaves before its answer still gets its line from that listener.

/** A route answering how many 'close' listeners its response has, and a call of it. */
function countRoute(app: FastifyInstance): (url: string) => Promise<number> {
  let seen = -1
  app.get('/count', async (_request, reply) => {
    seen = reply.raw.listenerCount('close')
    return 'ok'
  })
  return async (url) => {
    const res = await fetch(`${url}/count`)
    assert.equal(res.status, 200)
    await res.text()
    return seen
  }
}

for (const accessLog of [true, false]) {
  test(`one 'close' listener per response from the gateway's listener (access log ${accessLog ? 'on' : 'off'})`, async (t) => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l.length > 0) lines.push(JSON.parse(l))
        cb()
      },
    })
    const bare = Fastify({ loggerInstance: pino({ level: 'info' }, sink) })
    t.after(() => bare.close())
    const countBare = countRoute(bare as unknown as FastifyInstance)
    await bare.listen({ host: '127.0.0.1', port: 0 })
    const bareCount = await countBare(`http://127.0.0.1:${(bare.server.address() as { port: number }).port}`)

    const listener = createListener({
      name: 'reverse',
      logger: pino({ level: 'info' }, sink),
      metrics: new GatewayMetrics(),
      accessLog,
      routeOf: (request) => request.routeOptions.url ?? 'unmatched',
    })
    t.after(() => listener.app.close())
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const countGateway = countRoute(listener.app)
    listener.app.get('/slow', async () => {
      await held
      return 'late'
    })
    await listen(listener, { host: '127.0.0.1', port: 0 })
    assert.equal(await countGateway(listener.url), bareCount + 1)

    // A client that leaves before the answer: the request ends (in flight back to 0) and, with the
    // access log on, its line says client-closed.
    const ac = new AbortController()
    const gone = fetch(`${listener.url}/slow`, { signal: ac.signal }).catch(() => null)
    while (listener.inFlight === 0) await new Promise((r) => setTimeout(r, 10))
    ac.abort()
    await gone
    await listener.idle()
    release()
    const closed = lines.filter((l) => l.msg === 'access' && l.target === '/slow')
    assert.deepEqual(
      closed.map((l) => [l.status, l.end]),
      accessLog ? [[499, 'client-closed']] : [],
    )
  })
}
