import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type { FastifyRequest } from 'fastify'
import pino from 'pino'
import { LazyRequestLogger } from '../src/lazy-logger.js'
import { createListener, listen } from '../src/listeners/app.js'
import { GatewayMetrics } from '../src/metrics.js'

// request.log is a pino child only once something logs through it: a request that logs nothing makes
// none, and a line logged through it still carries the listener and the request id; the access line
// (written through the listener's logger) carries the same request id.

test('request.log makes a pino child only when used, and its lines and the access line carry reqId', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.length > 0) lines.push(JSON.parse(l))
      cb()
    },
  })
  const logger = pino({ level: 'info' }, sink)
  const listener = createListener({
    name: 'reverse',
    logger,
    metrics: new GatewayMetrics(),
    accessLog: true,
    routeOf: (request) => request.routeOptions.url ?? 'unmatched',
  })
  const seen: FastifyRequest[] = []
  listener.app.get('/quiet', async (request) => {
    seen.push(request)
    return 'quiet'
  })
  listener.app.get('/chatty', async (request) => {
    seen.push(request)
    request.log.debug('below the level: makes nothing')
    request.log.warn({ detail: 1 }, 'chatty')
    return 'chatty'
  })
  t.after(() => listener.app.close())
  await listen(listener, { host: '127.0.0.1', port: 0 })
  for (const path of ['/quiet', '/chatty']) {
    const res = await fetch(`${listener.url}${path}`)
    assert.equal(res.status, 200)
    await res.text()
  }
  await listener.app.close()
  const [quiet, chatty] = seen as [FastifyRequest, FastifyRequest]
  assert.ok(quiet.log instanceof LazyRequestLogger)
  assert.equal((quiet.log as unknown as LazyRequestLogger).materialized, false, 'no child for /quiet')
  assert.equal((chatty.log as unknown as LazyRequestLogger).materialized, true)
  const warn = lines.find((l) => l.msg === 'chatty')
  assert.deepEqual([warn?.level, warn?.listener, warn?.reqId, warn?.detail], [40, 'reverse', chatty.id, 1])
  assert.equal(lines.filter((l) => l.msg === 'below the level: makes nothing').length, 0)
  const access = lines.filter((l) => l.msg === 'access')
  assert.deepEqual(
    access.map((l) => [l.listener, l.reqId, l.target]),
    [
      ['reverse', quiet.id, '/quiet'],
      ['reverse', chatty.id, '/chatty'],
    ],
  )
  // The same field order as a per-request child wrote: bindings (listener, reqId) before the fields.
  const keys = Object.keys(access[0]!)
  assert.deepEqual(keys.slice(keys.indexOf('listener'), keys.indexOf('listener') + 3), [
    'listener',
    'reqId',
    'method',
  ])
})
