import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('an upstream sending more or fewer body bytes than its Content-Length does not poison the pooled connection', async (t) => {
  const origin = await startTcpOrigin((socket) => {
    let buffered = ''
    socket.on('data', (c: Buffer) => {
      buffered += c.toString('latin1')
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const path = buffered.slice(0, end).split(' ')[1]
        buffered = buffered.slice(end + 4)
        if (path === '/more') {
          // Content-Length 5, then ten bytes: the extra five look like the start of the next response.
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged',
          )
        } else if (path === '/fewer') {
          socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf')
          return
        } else {
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${path!.length}\r\n\r\n${path}`)
        }
      }
    })
  })
  t.after(() => origin.close())
  const proxy = await startProxy(t, {
    routes: [{ upstreams: [`http://127.0.0.1:${origin.port}`], connections: 1, passiveHealth: false }],
  })
  const agent = client(t)
  const more = await get(agent, `${proxy.url}/more`).catch((e: Error) => ({ status: -1, text: e.message }))
  assert.ok(more.status === 200 || more.status === 502 || more.status === -1)
  if (more.status === 200) assert.equal(more.text, 'hello', 'never the forged bytes')
  for (let i = 0; i < 5; i++) {
    const next = await get(agent, `${proxy.url}/next-${i}`)
    assert.equal(next.status, 200)
    assert.equal(next.text, `/next-${i}`, 'the next request gets its own answer, not the forged one')
  }
  const fewer = await get(agent, `${proxy.url}/fewer`).catch((e: Error) => ({ status: -1, text: e.message }))
  assert.notEqual(fewer.text, 'half', 'a short body is never passed off as complete')
  for (let i = 0; i < 5; i++) {
    const next = await get(agent, `${proxy.url}/after-${i}`)
    assert.equal(next.text, `/after-${i}`)
  }
})
