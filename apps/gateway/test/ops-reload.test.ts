import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

const TOKEN = 'reload-test-token'

/** One keep-alive connection, requests sent one after another, responses read by Content-Length. */
function keepAlive(url: string) {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  let buffer = Buffer.alloc(0)
  let waiter: (() => void) | null = null
  let closed = false
  socket.on('data', (c: Buffer) => {
    buffer = Buffer.concat([buffer, c])
    waiter?.()
  })
  socket.on('close', () => {
    closed = true
    waiter?.()
  })
  return {
    get closed() {
      return closed
    },
    async get(path: string): Promise<{ status: number; body: string }> {
      socket.write(`GET ${path} HTTP/1.1\r\nhost: reload.test\r\n\r\n`)
      const deadline = Date.now() + 20_000
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end >= 0) {
          const head = buffer.subarray(0, end).toString('latin1')
          const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
          if (buffer.length >= end + 4 + length) {
            const body = buffer.subarray(end + 4, end + 4 + length).toString()
            buffer = buffer.subarray(end + 4 + length)
            return { status: Number(head.split(' ')[1]), body }
          }
        }
        if (closed) throw new Error('connection closed')
        if (Date.now() > deadline) throw new Error('no response within 20 s')
        await new Promise<void>((r) => {
          waiter = r
          setTimeout(r, 200)
        })
        waiter = null
      }
    },
    close: () => socket.destroy(),
  }
}

test('reload swaps routes without dropping connections or in-flight requests; a broken file is refused', async (t) => {
  const a = await startOrigin({
    handler: (req, res) => {
      const delay = req.url === '/slow' ? 1500 : 0
      setTimeout(() => {
        const body = `a${req.url}`
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
        res.end(body)
      }, delay)
    },
  })
  t.after(() => a.close())
  const b = await startOrigin({
    handler: (req, res) => {
      const body = `b${req.url}`
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
      res.end(body)
    },
  })
  t.after(() => b.close())
  const v1 = {
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'web', prefix: '/', upstreams: [a.url] }] },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  }
  const file = await writeConfig(t, v1, 'gateway.json')
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const reverse = gw.urls.reverse!
  const reload = async () => {
    const res = await request(`${gw.urls.admin}/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }
  }

  const conn = keepAlive(reverse)
  t.after(() => conn.close())
  assert.deepEqual(await conn.get('/one'), { status: 200, body: 'a/one' })

  // A slow request is in flight through the old configuration while the new one is swapped in.
  const slow = request(`${reverse}/slow`).then(async (r) => ({
    status: r.statusCode,
    body: await r.body.text(),
  }))
  await new Promise((r) => setTimeout(r, 300))
  const v2 = {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'web', prefix: '/', upstreams: [b.url], deny: ['/blocked'] }],
    },
    admin: { listen: '127.0.0.1:0', token: `${TOKEN}-changed` },
  }
  await writeFile(file, JSON.stringify(v2))
  const ok = await reload()
  assert.equal(ok.status, 200, JSON.stringify(ok.body))
  assert.equal(ok.body.ok, true)
  assert.deepEqual(ok.body.applied, ['reverse'])
  assert.match(String(ok.body.restartNeeded), /admin/, 'the admin change is reported as needing a restart')

  assert.deepEqual(await slow, { status: 200, body: 'a/slow' }, 'the in-flight request finished')
  assert.deepEqual(await conn.get('/two'), { status: 200, body: 'b/two' }, 'same connection, new route')
  assert.equal(conn.closed, false)
  assert.equal((await conn.get('/blocked')).status, 403, 'new rule applies')
  const upstreams = (await (await fetch(`${gw.urls.admin}/upstreams`)).json()) as {
    upstreams: Array<{ url: string }>
  }
  assert.deepEqual(
    upstreams.upstreams.map((u) => u.url),
    [b.url],
    'the admin API sees the new upstreams',
  )

  // A broken file is refused with its reason; the running configuration stays.
  await writeFile(
    file,
    JSON.stringify({ reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: ['nope'] }] }, colour: 1 }),
  )
  const refused = await reload()
  assert.equal(refused.status, 422)
  assert.equal(refused.body.ok, false)
  assert.match(String(refused.body.error), /colour: is not a known key/)
  assert.match(String(refused.body.error), /upstreams\[0\]/)
  await gw.waitForLog((l) => l.event === 'reload' && l.ok === false && /colour/.test(String(l.reason)))
  assert.deepEqual(await conn.get('/three'), { status: 200, body: 'b/three' })

  // SIGHUP reloads too.
  await writeFile(file, JSON.stringify(v1))
  const reloadsBefore = gw.logs.filter((l) => l.msg === 'reloaded').length
  gw.child.kill('SIGHUP')
  await gw.waitForLog(
    (l) => l.msg === 'reloaded' && gw.logs.filter((x) => x.msg === 'reloaded').length > reloadsBefore,
  )
  assert.deepEqual(await conn.get('/four'), { status: 200, body: 'a/four' })
  assert.equal(conn.closed, false, 'one connection across three configurations')

  assert.equal(await gw.stop(), 0)
})
