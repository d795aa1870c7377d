import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { patternStream } from '@proxykit/core/testing'

const SIZE = 512 * 1024 * 1024
const RSS_LIMIT = 150 * 1024 * 1024
const CHILD = fileURLToPath(new URL('./fixtures/proxy-child.js', import.meta.url))

/**
 * SHA-256 and length of what a socket receives until its FIN. Not `for await`: finishing the loop would
 * destroy the socket, cutting the other direction short.
 */
function hashUntilEnd(socket: net.Socket): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256')
  let bytes = 0
  socket.on('data', (c: Buffer) => {
    h.update(c)
    bytes += c.length
  })
  const done = new Promise<{ sha256: string; bytes: number }>((resolve) =>
    socket.once('end', () => resolve({ sha256: h.digest('hex'), bytes })),
  )
  socket.resume()
  return done
}

async function rss(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : 0
}

test('512 MiB each way at once through one tunnel: backpressure keeps the proxy under 150 MB, bytes intact', {
  skip: process.platform !== 'linux' ? 'RSS is sampled from /proc' : false,
  timeout: 280_000,
}, async (t) => {
  let originReceived: Promise<{ sha256: string; bytes: number }> | undefined
  let originSent: ReturnType<typeof patternStream> | undefined
  // A bare TCP origin (core's startTcpOrigin records every byte, which 512 MiB should not be).
  const origin = net.createServer({ allowHalfOpen: true }, (socket) => {
    originReceived = hashUntilEnd(socket)
    originSent = patternStream(SIZE, 256 * 1024)
    originSent.pipe(socket)
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const originPort = (origin.address() as AddressInfo).port
  const child: ChildProcess = spawn(process.execPath, [CHILD, JSON.stringify([originPort])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  t.after(async () => {
    child.stdin!.end()
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    clearTimeout(killer)
    origin.close()
  })
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  const { port } = JSON.parse(line.toString()) as { port: number }

  let peak = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rss(child.pid!).catch(() => 0))
      await new Promise((r) => setTimeout(r, 100))
    }
  })()

  const originReceivedLater = async () => {
    const deadline = Date.now() + 10_000
    while (originReceived === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    return originReceived!
  }

  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await once(client, 'connect')
  client.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\n\r\n`)
  // Read up to the end of the head with one listener (data arrives right behind it and must not be
  // dropped between two listeners), then put back whatever follows it: that is tunnel data.
  const head = await new Promise<Buffer>((resolve) => {
    let buf = Buffer.alloc(0)
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      if (!buf.includes('\r\n\r\n')) return
      client.off('data', onData)
      client.pause()
      resolve(buf)
    }
    client.on('data', onData)
  })
  const end = head.indexOf('\r\n\r\n') + 4
  assert.match(head.subarray(0, end).toString(), /^HTTP\/1\.1 200 /)
  if (end < head.length) client.unshift(head.subarray(end))
  const upload = patternStream(SIZE, 256 * 1024)
  upload.pipe(client)
  // Each side finishes when the other's FIN has come through the tunnel (half-close both ways).
  const [down, up] = await Promise.all([hashUntilEnd(client), originReceivedLater()])
  sampling = false
  await sampler

  assert.equal(up.bytes, SIZE, 'upload size')
  assert.equal(up.sha256, upload.digest())
  assert.equal(down.bytes, SIZE, 'download size')
  assert.equal(down.sha256, originSent!.digest())
  t.diagnostic(`proxy peak RSS ${(peak / 1024 / 1024).toFixed(1)} MB`)
  assert.ok(peak > 0 && peak < RSS_LIMIT, `proxy RSS peaked at ${(peak / 1024 / 1024).toFixed(1)} MB`)
})
