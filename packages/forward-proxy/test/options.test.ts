import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import forwardProxy, { type ForwardProxyOptions } from '../src/index.js'

const bad: Array<[string, ForwardProxyOptions, RegExp]> = [
  ['mode', { mode: 'stealth' as never }, /mode: must be "anonymous" or "transparent"/],
  ['pseudonym', { pseudonym: 'has space' }, /pseudonym: must be/],
  ['allow', { allow: ['intranet'] }, /allow: has "intranet", which is neither an address class/],
  ['deny', { deny: ['10.0.0.0/99'] }, /deny: has "10.0.0.0\/99"/],
  ['connectPorts', { connectPorts: [0] }, /connectPorts: must be an array of port numbers/],
  ['connectTimeout', { connectTimeout: -1 }, /connectTimeout: must be a positive integer/],
  ['headersTimeout', { headersTimeout: 1.5 }, /headersTimeout: must be a positive integer/],
  ['lookup', { lookup: 'dns' as never }, /lookup: must be a function/],
  ['parentProxy', { parentProxy: 'https://parent:3128' }, /parentProxy: must be an http:\/\/ URL/],
  ['parentProxy', { parentProxy: 'not a url' }, /parentProxy: has an invalid url/],
  ['extraMethods', { extraMethods: ['get'] }, /extraMethods: must be an array of upper-case method names/],
]

for (const [name, options, message] of bad) {
  test(`option ${name}: ${JSON.stringify(options)} is refused at registration`, async () => {
    const app = Fastify()
    app.register(forwardProxy, options)
    await assert.rejects(async () => app.ready(), { code: 'PK_INVALID_OPTION', option: name, message })
    await app.close()
  })
}

test('valid options register, and a second registration on one server is refused', async () => {
  const app = Fastify()
  app.register(forwardProxy, {
    allow: ['loopback', '10.0.0.0/8', '::ffff:192.168.0.0/112'],
    deny: ['127.0.0.9'],
  })
  await app.ready()
  await app.close()
  const twice = Fastify()
  twice.register(forwardProxy)
  twice.register(forwardProxy)
  await assert.rejects(async () => twice.ready(), /already registered/)
  await twice.close()
})
