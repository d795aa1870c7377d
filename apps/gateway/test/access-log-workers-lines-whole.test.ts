import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, constants, openSync, readSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { CLI, writeConfig } from './helpers/cli.js'

// Issue 28: with `workers`, every worker writes its access lines, batched asynchronously, to the one
// stdout. On a pipe, only a write of at most PIPE_BUF (4 KiB) is atomic: a larger one may be taken in
// part (a non-blocking pipe with less room than that says how much it took, and the rest is written
// later), and another worker's write goes in between: lines come out cut into each other. Here stdout
// is a real pipe (a FIFO, non-blocking as libuv makes the pipes it manages) read slowly while both
// workers log long lines (a 3 KB target each, so batches are well over 4 KiB); then everything is read:
// every line must be whole JSON, and every request logged once.

const REQUESTS = 120
const TARGET = `/${'x'.repeat(3000)}`

test('workers: access lines batched from several workers to one stdout pipe are never cut into each other', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(
    t,
    {
      workers: 2,
      reverse: { listen: '127.0.0.1:0', routes: [{ name: 'web', prefix: '/', upstreams: [origin.url] }] },
      admin: { listen: '127.0.0.1:0' },
    },
    'gateway.json',
  )
  const fifo = join(dirname(file), 'stdout.fifo')
  execFileSync('mkfifo', [fifo])
  // The read end first (non-blocking, so that opening it does not wait for a writer), then the write end
  // the gateway inherits as its stdout.
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
  const child = spawn(process.execPath, [CLI, '--config', file], { stdio: ['ignore', writeFd, 'pipe'] })
  closeSync(writeFd)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c
  })
  const exited = once(child, 'exit')
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  // A reader that can be slow: 1 KiB every 10 ms keeps the pipe nearly full while the workers log, so
  // their writes find a little room, not none; fast, it reads all there is.
  let out = ''
  let slow = false
  let ended = false
  const buffer = Buffer.alloc(64 * 1024)
  const reading = (async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    for (;;) {
      let n: number
      try {
        n = readSync(readFd, buffer, 0, slow ? 1024 : buffer.length, null)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
        await sleep(5)
        continue
      }
      // 0: no writer has it open any more (the gateway exited).
      if (n === 0) break
      out += buffer.toString('latin1', 0, n)
      if (slow) await sleep(10)
    }
    ended = true
    closeSync(readFd)
  })()
  const lines = () => out.split('\n').filter((l) => l.trim() !== '')
  const parsed = () =>
    lines().flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
  const waitFor = async (what: string, ok: () => boolean, ms = 120_000) => {
    const deadline = Date.now() + ms
    while (!ok()) {
      if (child.exitCode !== null) assert.fail(`the gateway exited waiting for ${what}\n${stderr}`)
      if (Date.now() > deadline)
        assert.fail(`no ${what} within ${ms} ms\nstdout:\n${out}\nstderr:\n${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  await waitFor('two ready workers', () => parsed().filter((l) => l.event === 'worker-ready').length >= 2)
  await waitFor('the reverse listener', () =>
    parsed().some((l) => l.event === 'listening' && l.listener === 'reverse'),
  )
  const url = parsed().find((l) => l.event === 'listening' && l.listener === 'reverse')!.url as string

  slow = true
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < REQUESTS) {
        const i = next++
        // A new connection each: the primary hands connections to the workers in turn.
        const res = await request(`${url}${TARGET}?i=${i}`, { reset: true })
        assert.equal(res.statusCode, 200)
        await res.body.dump()
      }
    }),
  )
  slow = false
  const access = () => parsed().filter((l) => l.msg === 'access' && l.listener === 'reverse')
  // Lines cut into each other do not parse, so the count falls short: wait for it, bounded.
  await waitFor('every access line', () => access().length >= REQUESTS, 60_000).catch(() => {})
  child.kill('SIGTERM')
  await exited
  // Every process holding the pipe (the primary, its workers) is gone: the reader sees its end.
  await Promise.race([
    reading,
    new Promise((_, reject) => setTimeout(() => reject(new Error('stdout did not end in 30 s')), 30_000)),
  ])
  assert.ok(ended)

  const broken = lines().filter((l) => {
    try {
      JSON.parse(l)
      return false
    } catch {
      return true
    }
  })
  assert.deepEqual(
    broken.map((l) => `${l.slice(0, 60)}… (${l.length} chars)`),
    [],
    'every line on stdout is one whole JSON object',
  )
  assert.equal(access().length, REQUESTS, 'one access line per request')
  assert.equal(new Set(access().map((l) => l.pid)).size, 2, 'both workers logged')
})
