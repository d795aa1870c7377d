import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import forwardProxy from '../src/index.js'

// A prefix cannot select an absolute-form target, and used to leave the forward routes unreachable (every
// forward request a 404): registration fails instead, naming the option.
test('a register prefix, or a prefixed context, fails at registration with a clear message', async () => {
  for (const register of [
    (app: FastifyInstance) => app.register(forwardProxy, { prefix: '/proxy' } as never),
    (app: FastifyInstance) =>
      app.register(async (child: FastifyInstance) => child.register(forwardProxy), { prefix: '/outer' }),
  ]) {
    const app = Fastify()
    await assert.rejects(
      async () => {
        await register(app)
        await app.ready()
      },
      {
        code: 'PK_INVALID_OPTION',
        option: 'prefix',
        message: /^@proxykit\/forward-proxy: prefix: a forward proxy serves absolute-form targets/,
      },
    )
    await app.close().catch(() => {})
  }
})
