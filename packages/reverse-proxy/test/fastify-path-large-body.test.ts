// Issue 21 (c): small bodies are gathered into one Buffer on Fastify's answer path (an app with an onSend
// hook), but only up to core's BUFFERED_BODY_LIMIT: a 1 GiB download through that path still streams, with
// the proxy's RSS flat and every byte the upstream's.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { hashStream, patternStream, startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { client } from './helpers.js'

const GiB = 1024 * 1024 * 1024

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : 0
}

test('a 1 GiB answer streams through Fastify’s path (an app onSend hook) with flat proxy RSS', {
  timeout: 240_000,
}, async (t) => {
  const origin = await startOrigin({
    streaming: true,
    handler: async (req, res) => {
      const size = req.url === '/small' ? 100 : GiB
      res.writeHead(200, { 'content-length': String(size) })
      patternStream(size).pipe(res)
    },
  })
  t.after(() => origin.close())
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./fixtures/proxy-process.js', import.meta.url)), origin.url, '--on-send'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  t.after(() => {
    if (child.exitCode === null) child.kill()
  })
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  const port = Number(line.toString().trim())
  const agent = client(t)
  const url = `http://127.0.0.1:${port}/`

  for (let i = 0; i < 20; i++) await (await request(`${url}small`, { dispatcher: agent })).body.text()
  const baseline = rssBytes(child.pid!)
  let peak = baseline
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(child.pid!))
  }, 50)
  t.after(() => clearInterval(sampler))

  const down = await request(url, { dispatcher: agent, headersTimeout: 200_000, bodyTimeout: 200_000 })
  assert.equal(down.statusCode, 200)
  assert.equal(down.headers['content-length'], String(GiB))
  const { sha256, bytes } = await hashStream(down.body)
  const expected = patternStream(GiB)
  await hashStream(expected)
  assert.equal(bytes, GiB)
  assert.equal(sha256, expected.digest(), 'the client received the exact bytes')

  clearInterval(sampler)
  const growth = peak - baseline
  assert.ok(
    growth < 64 * 1024 * 1024,
    `proxy RSS grew by ${(growth / 1048576).toFixed(1)} MiB (baseline ${(baseline / 1048576).toFixed(1)} MiB)`,
  )
  t.diagnostic(
    `proxy RSS baseline ${(baseline / 1048576).toFixed(1)} MiB, peak ${(peak / 1048576).toFixed(1)} MiB`,
  )
})
