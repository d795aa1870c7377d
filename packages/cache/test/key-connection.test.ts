import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Client } from 'undici'
import { fetchOnce, setup } from './helpers.js'

// key.ts reuses a connection's last key when it is built from the same Host, path and scheme: requests on
// one keep-alive connection that change any of them must still get their own entries.
test('one keep-alive connection switching Host and path gets one entry per URL', async (t) => {
  let n = 0
  // The test proxy sends the origin its own Host: the bodies are numbered in the order they were made.
  const s = await setup(t, (_req, res) => {
    const body = `answer ${++n}`
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  const client = new Client(s.url, { pipelining: 1, connections: 1 } as never)
  t.after(() => client.close())
  let sockets = 0
  s.app.server.on('connection', () => sockets++)
  const get = (host: string, path: string) => fetchOnce(client as never, `${s.url}${path}`, { host })
  const order: Array<[string, string]> = [
    ['a.test', '/k'],
    ['b.test', '/k'],
    ['a.test', '/k'],
    ['a.test', '/k?2'],
    ['b.test', '/k'],
    ['A.TEST:80', '/k'],
  ]
  const bodies: string[] = []
  const status: string[] = []
  for (const [host, path] of order) {
    const r = await get(host, path)
    bodies.push(r.body)
    status.push(r.headers['cache-status']!.split(';')[1]!.trim())
  }
  assert.equal(sockets, 1, 'every request went over one connection')
  assert.deepEqual(bodies, ['answer 1', 'answer 2', 'answer 1', 'answer 3', 'answer 2', 'answer 1'])
  assert.deepEqual(status, ['fwd=uri-miss', 'fwd=uri-miss', 'hit', 'fwd=uri-miss', 'hit', 'hit'])
  assert.equal(s.origin.hits, 3)
})
