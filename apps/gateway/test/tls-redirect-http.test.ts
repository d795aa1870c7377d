import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import pino from 'pino'
import { resolveConfig } from '../src/config/parse.js'
import { startGateway } from '../src/gateway.js'
import { curl } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

test('redirectHttp answers 301 to the https listener, except ACME HTTP-01 challenges, which the hook answers', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const cert = await ca.issue(['site.test'])
  const gateway = await startGateway(
    resolveConfig({
      reverse: {
        listen: '127.0.0.1:0',
        tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
        redirectHttp: '127.0.0.1:0',
        routes: [{ prefix: '/', upstreams: [origin.url] }],
      },
      admin: { listen: '127.0.0.1:0' },
    }),
    { logger: pino({ level: 'silent' }) },
  )
  t.after(() => gateway.close(1000))
  const plain = gateway.listeners.redirect!.url
  const httpsPort = gateway.listeners.reverse!.address.port
  assert.match(plain, /^http:\/\//)

  const head = async (args: string[]) => {
    const r = await curl(['-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', ...args])
    const [status, location] = r.stdout.split(' ')
    return { status: Number(status), location }
  }
  const redirected = await head(['-H', 'host: site.test', `${plain}/a/b?q=1`])
  assert.equal(redirected.status, 301)
  assert.equal(redirected.location, `https://site.test:${httpsPort}/a/b?q=1`)
  assert.equal(
    (await head(['-X', 'POST', '-H', 'host: site.test:80', `${plain}/form`])).location,
    `https://site.test:${httpsPort}/form`,
  )
  // A Host that is no host name is not echoed into a Location.
  assert.equal((await head(['-H', 'host: evil.test/x', `${plain}/`])).status, 400)

  // Followed with the test CA, the redirect reaches the origin over TLS.
  const followed = await curl([
    '-L',
    '--cacert',
    ca.certFile,
    '--resolve',
    `site.test:${httpsPort}:127.0.0.1`,
    '-H',
    'host: site.test',
    `${plain}/followed`,
  ])
  assert.equal(followed.code, 0, followed.stderr)
  assert.equal(JSON.parse(followed.stdout).url, '/followed')

  // The ACME challenge path is never redirected: 404 with no responder, the key authorization with one.
  const challenge = `${plain}/.well-known/acme-challenge/tok_EN-1`
  assert.equal((await head(['-H', 'host: site.test', challenge])).status, 404)
  gateway.shared.acme.http01 = async (token) => (token === 'tok_EN-1' ? 'tok_EN-1.thumbprint' : null)
  const answered = await curl(['-H', 'host: site.test', challenge])
  assert.equal(answered.stdout, 'tok_EN-1.thumbprint')
  assert.equal(
    (await head(['-H', 'host: site.test', `${plain}/.well-known/acme-challenge/other`])).status,
    404,
  )
  assert.equal(origin.hits, 1)
})
