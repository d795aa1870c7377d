import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { hashStream, patternStream, startOrigin } from '@proxykit/core/testing'

const GiB = 1024 ** 3
const RSS_LIMIT = 150 * 1024 * 1024
const CHILD = fileURLToPath(new URL('./fixtures/proxy-child.js', import.meta.url))

async function startChildProxy(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'inherit'] })
  const [line] = (await Promise.race([
    once(child.stdout!, 'data'),
    once(child, 'exit').then(() => {
      throw new Error('the proxy child exited before listening')
    }),
  ])) as [Buffer]
  return { child, port: (JSON.parse(line.toString()) as { port: number }).port }
}

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) * 1024 : 0
}

/** Samples the child's RSS every 100 ms until stopped; returns the peak. */
function sampleRss(pid: number): { stop(): Promise<number> } {
  let peak = 0
  let running = true
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rss(pid).catch(() => 0))
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return peak
    },
  }
}

test('1 GiB up and 1 GiB down stream through the proxy with its RSS under 150 MB and the bytes intact', {
  skip: process.platform !== 'linux' ? 'RSS is sampled from /proc' : false,
  timeout: 280_000,
}, async (t) => {
  let uploaded: { sha256: string; bytes: number } | undefined
  let downloadDigest = ''
  const origin = await startOrigin({
    streaming: true,
    handler: async (req, res) => {
      if (req.url === '/upload') {
        uploaded = await hashStream(req)
        res.end(JSON.stringify(uploaded))
        return
      }
      const body = patternStream(GiB, 256 * 1024)
      res.writeHead(200, { 'content-length': GiB, 'content-type': 'application/octet-stream' })
      body.pipe(res)
      body.on('end', () => {
        downloadDigest = body.digest()
      })
    },
  })
  const { child, port } = await startChildProxy()
  t.after(async () => {
    child.stdin!.end()
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    clearTimeout(killer)
    await origin.close()
  })
  const sampler = sampleRss(child.pid!)

  // Upload: the client streams 1 GiB through the proxy; the origin hashes what it receives.
  const upload = patternStream(GiB, 256 * 1024)
  const up = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: `http://127.0.0.1:${origin.port}/upload`,
    headers: { host: `127.0.0.1:${origin.port}`, 'content-length': GiB },
  })
  upload.pipe(up)
  const [upRes] = (await once(up, 'response')) as [http.IncomingMessage]
  await hashStream(upRes)
  assert.equal(upRes.statusCode, 200)
  assert.ok(uploaded !== undefined)
  assert.equal(uploaded.bytes, GiB)
  assert.equal(uploaded.sha256, upload.digest())

  // Download: the origin streams 1 GiB; the client hashes what arrives.
  const down = http.request({
    host: '127.0.0.1',
    port,
    path: `http://127.0.0.1:${origin.port}/download`,
    headers: { host: `127.0.0.1:${origin.port}` },
  })
  down.end()
  const [downRes] = (await once(down, 'response')) as [http.IncomingMessage]
  assert.equal(downRes.statusCode, 200)
  const received = await hashStream(downRes)
  assert.equal(received.bytes, GiB)
  assert.equal(received.sha256, downloadDigest)

  const peak = await sampler.stop()
  t.diagnostic(`proxy peak RSS ${(peak / 1024 / 1024).toFixed(1)} MB`)
  assert.ok(peak > 0, 'RSS was never sampled')
  assert.ok(peak < RSS_LIMIT, `proxy RSS peaked at ${(peak / 1024 / 1024).toFixed(1)} MB`)
})
