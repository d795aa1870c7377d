// Issue 26.8: `allow`/`deny` addresses must mean what they read as. ipaddr.js alone takes inet_aton's
// spellings (`010.0.0.1` is octal 8.0.0.1, `2130706434` is 127.0.0.2); the options refuse them, and
// `300.1.1.1`, at registration with a message naming the option.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import forwardProxy, { type ForwardProxyOptions } from '../src/index.js'

const refused: Array<[ForwardProxyOptions, RegExp]> = [
  [{ allow: ['300.1.1.1'] }, /allow: has "300\.1\.1\.1"/],
  [{ allow: ['010.0.0.1'] }, /allow: has "010\.0\.0\.1".*four decimal octets/],
  [{ deny: ['2130706434'] }, /deny: has "2130706434"/],
  [{ deny: ['127.1'] }, /deny: has "127\.1"/],
  [{ deny: ['010.0.0.0/8'] }, /deny: has "010\.0\.0\.0\/8"/],
  [{ allow: ['1.2.3.4/33'] }, /allow: has "1\.2\.3\.4\/33"/],
]

for (const [options, message] of refused) {
  test(`${JSON.stringify(options)} is refused at registration`, async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    app.register(forwardProxy, options)
    await assert.rejects(async () => app.ready(), { code: 'PK_INVALID_OPTION', message })
  })
}

test('the usual spellings register', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  app.register(forwardProxy, {
    allow: ['10.0.0.1', '10.0.0.0/8', '::1', '::ffff:10.0.0.0/104'],
    deny: ['fd00::/8'],
  })
  await app.ready()
})
