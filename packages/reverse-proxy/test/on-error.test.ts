import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, namedOrigins, startProxy } from './helpers.js'

test('onError(reply, { error }) answers our upstream errors instead of the default answer', async (t) => {
  const [up] = await namedOrigins(t, 1)
  const refusing = 'http://127.0.0.1:1'
  const seen: Array<{ code: string; statusCode: number }> = []
  const proxy = await startProxy(t, {
    onError: (reply, { error }) => {
      seen.push({ code: error.code, statusCode: error.statusCode })
      reply.code(503).header('x-handled', 'plugin').send({ failed: error.code })
    },
    routes: [
      { name: 'down', prefix: '/down', upstreams: [refusing], retries: false },
      {
        name: 'own',
        prefix: '/own',
        upstreams: [refusing],
        retries: false,
        onError: (reply, { error }) => {
          reply.code(error.statusCode).header('x-handled', 'route').send('route handler')
        },
      },
      { name: 'fine', prefix: '/fine', upstreams: [up!.url] },
    ],
  })
  const agent = client(t)
  const down = await get(agent, `${proxy.url}/down/x`)
  assert.equal(down.status, 503)
  assert.equal(down.headers['x-handled'], 'plugin')
  assert.deepEqual(JSON.parse(down.text), { failed: 'PK_BAD_GATEWAY' })
  assert.deepEqual(seen, [{ code: 'PK_BAD_GATEWAY', statusCode: 502 }])
  // A route's own onError wins over the plugin's.
  const own = await get(agent, `${proxy.url}/own/x`)
  assert.equal(own.status, 502)
  assert.equal(own.headers['x-handled'], 'route')
  assert.equal(own.text, 'route handler')
  // Answers from the upstream, whatever their status, are not errors of ours.
  assert.equal((await get(agent, `${proxy.url}/fine/x`)).text, 'origin-0')
  assert.equal(seen.length, 1)
})

test('without onError our errors keep their default answer', async (t) => {
  const proxy = await startProxy(t, { routes: [{ upstreams: ['http://127.0.0.1:1'], retries: false }] })
  const res = await get(client(t), `${proxy.url}/x`)
  assert.equal(res.status, 502)
  assert.equal(res.headers['x-handled'], undefined)
})

test('onError gets the timeout (504) and the midway failure; a throwing onError reaches Fastify', async (t) => {
  const slow = await startOrigin({
    handler: (req, res) => {
      // Headers never come for /slow; /cut sends a head then dies mid-body.
      if (req.url?.endsWith('/cut')) {
        res.writeHead(200, { 'content-length': '100' })
        res.write('part')
        setTimeout(() => res.destroy(), 50)
      }
    },
  })
  t.after(() => slow.close())
  const seen: number[] = []
  const proxy = await startProxy(
    t,
    {
      routes: [
        {
          name: 'slow',
          prefix: '/slow',
          upstreams: [slow.url],
          timeouts: { headers: 200 },
          passiveHealth: false,
          retries: false,
          onError: (reply, { error }) => {
            seen.push(error.statusCode)
            reply.code(error.statusCode).send(`handled ${error.code}`)
          },
        },
        {
          name: 'throws',
          prefix: '/throws',
          upstreams: ['http://127.0.0.1:1'],
          retries: false,
          onError: () => {
            throw new Error('onError broke')
          },
        },
      ],
    },
    {
      before: (app) =>
        app.setErrorHandler((err: Error, _req, reply) => {
          reply.code(500).send(`app handler: ${err.message}`)
        }),
    },
  )
  const agent = client(t)
  const slowRes = await get(agent, `${proxy.url}/slow/x`)
  assert.equal(slowRes.status, 504)
  assert.equal(slowRes.text, 'handled PK_GATEWAY_TIMEOUT')
  // Once the upstream's head is relayed, a failure only ends the connection: onError is not called.
  await assert.rejects(get(agent, `${proxy.url}/slow/cut`))
  assert.deepEqual(seen, [504])
  const throws = await get(agent, `${proxy.url}/throws/x`)
  assert.equal(throws.status, 500)
  assert.equal(throws.text, 'app handler: onError broke')
})
