// Runs in a throwaway npm project where the packed tarballs are installed: each plugin, imported by its
// published name, is registered alone in a plain Fastify app that must still answer a request.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import Fastify from 'fastify'

const plugins = [
  '@proxykit/core',
  '@proxykit/forward-proxy',
  '@proxykit/reverse-proxy',
  '@proxykit/cache',
  '@proxykit/access-control',
]
for (const name of plugins) {
  const mod = await import(name)
  const app = Fastify()
  await app.register(mod.default)
  app.get('/hello', async () => ({ hello: name }))
  const res = await app.inject('/hello')
  assert.equal(res.statusCode, 200, `${name}: ${res.body}`)
  assert.deepEqual(res.json(), { hello: name })
  await app.close()
  console.log(`  ok ${name} registers in a plain Fastify app`)
}
await import('@proxykit/core/testing')
await import('@proxykit/cache/redis')
const help = execFileSync('node_modules/.bin/proxykit-gateway', ['--help'], { encoding: 'utf8' })
assert.match(help, /proxykit-gateway/)
console.log('  ok @proxykit/gateway bin answers --help')
