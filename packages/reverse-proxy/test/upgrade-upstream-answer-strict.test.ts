import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { UpstreamError } from '@proxykit/core'
import { rawRequest, startTcpOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

// The upstream's answer to an upgrade is read by core's response-head parser, as every proxied answer
// is: a malformed head, a 101 with framing fields, conflicting lengths or a reset in the middle of the
// head are a 502 whose cause is a member of core's PK_UPSTREAM family, and nothing is spliced.

const UPGRADE =
  'GET /ws/chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
// Bytes of the new protocol the client sends right after its head: they may reach the upstream only
// after a real 101.
const EARLY = 'EARLY-FRAME'

/** A raw upstream answering `answer` to the upgrade (then `after`, if given), and a proxy in front of it. */
async function setup(t: TestContext, answer: string, after?: (socket: import('node:net').Socket) => void) {
  const origin = await startTcpOrigin((socket, received) => {
    socket.on('data', () => {
      if (!Buffer.concat(received).includes('\r\n\r\n') || socket.writableEnded) return
      if (answer.length > 0) socket.write(answer)
      after?.(socket)
    })
  })
  t.after(() => origin.close())
  const seen: Array<{ code: string; cause: unknown }> = []
  const proxy = await startProxy(
    t,
    { routes: [{ prefix: '/ws', upstreams: [`http://127.0.0.1:${origin.port}`] }] },
    {
      before: (app) =>
        app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _request, reply) => {
          seen.push({ code: err.code ?? '', cause: err.cause })
          return reply
            .code(err.statusCode ?? 500)
            .send({ code: err.code, cause: (err.cause as { code?: string })?.code })
        }),
    },
  )
  const received = () => origin.received.map((c) => Buffer.concat(c).toString('latin1')).join('')
  return { proxy, seen, received }
}

async function assertRefused(
  t: TestContext,
  answer: string,
  cause: string,
  after?: (socket: import('node:net').Socket) => void,
) {
  const { proxy, seen, received } = await setup(t, answer, after)
  const res = await rawRequest(proxy.port, `${UPGRADE}${EARLY}`, { idleMs: 1000 })
  assert.equal(res.statusCode, 502, `answered ${JSON.stringify(res.text.slice(0, 80))}`)
  assert.deepEqual(JSON.parse(res.body.toString()), { code: 'PK_BAD_GATEWAY', cause })
  assert.equal(seen.length, 1)
  assert.ok(seen[0]!.cause instanceof UpstreamError, 'the cause is of the PK_UPSTREAM family')
  assert.ok(!res.text.includes('101'), 'no 101 reached the client')
  await sleep(100)
  assert.match(received(), /^GET \/chat HTTP\/1\.1\r\n/)
  assert.ok(!received().includes(EARLY), 'nothing was spliced: the early bytes never reached the upstream')
}

test('a status line that is not one (1O1) is a 502, not relayed', async (t) => {
  await assertRefused(
    t,
    'HTTP/1.1 1O1 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'PK_UPSTREAM_BAD_RESPONSE',
  )
})

test('a four-digit status (1010) is a 502, not a switch to the new protocol', async (t) => {
  await assertRefused(t, 'HTTP/1.1 1010 Switching\r\nUpgrade: websocket\r\n\r\n', 'PK_UPSTREAM_BAD_RESPONSE')
})

test('a 101 with a Content-Length is a 502, not a tunnel', async (t) => {
  await assertRefused(
    t,
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 5\r\n\r\n',
    'PK_UPSTREAM_BAD_RESPONSE',
  )
})

test('a refusal with two different Content-Lengths is a 502, neither length guessed', async (t) => {
  await assertRefused(
    t,
    'HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nContent-Length: 60\r\n\r\ndenied',
    'PK_UPSTREAM_BAD_RESPONSE',
  )
})

test('a refusal with an invalid Content-Length is a 502', async (t) => {
  await assertRefused(
    t,
    'HTTP/1.1 403 Forbidden\r\nContent-Length: 6x\r\n\r\ndenied',
    'PK_UPSTREAM_BAD_RESPONSE',
  )
})

test('a head with bare LF line endings is a 502 at once, not a headers timeout', async (t) => {
  await assertRefused(
    t,
    'HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n\n',
    'PK_UPSTREAM_BAD_RESPONSE',
  )
})

test('a reset in the middle of the head is a 502 caused by PK_UPSTREAM_CLOSED', async (t) => {
  await assertRefused(t, 'HTTP/1.1 101 Swit', 'PK_UPSTREAM_CLOSED', (socket) => socket.resetAndDestroy())
})

test('a close in the middle of the head is a 502 caused by PK_UPSTREAM_CLOSED', async (t) => {
  await assertRefused(t, 'HTTP/1.1 101 Switching Protocols\r\nUpgr', 'PK_UPSTREAM_CLOSED', (socket) =>
    socket.end(),
  )
})
