import assert from 'node:assert/strict'
import { closeSync, openSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { FastifyBaseLogger } from 'fastify'
import pino from 'pino'
import { type AccessFields, AccessLineWriter } from '../src/access-line.js'
import { resolveConfig } from '../src/index.js'
import { LineBuffer } from '../src/log-destination.js'

// access-line.ts writes `ms` from integers (not V8's shortest-digits conversion of a fraction) and
// `time` once per millisecond: each must still read exactly as JSON.stringify writes the number, for
// every value the access log produces (Math.round(ms * 100) / 100, as access-log.ts rounds it) and
// any other, and `time` must be the clock's at the line, not an older line's.

const base: AccessFields = {
  reqId: 'req-1',
  method: 'GET',
  target: '/',
  protocol: 'HTTP/1.1',
  route: 'web',
  status: 200,
  bytes: 100,
  ms: 0,
  remote: '127.0.0.1',
  end: 'complete',
  access: null,
  rule: null,
  user: null,
  cache: null,
  upstream: null,
  attempts: null,
}

function msValues(): number[] {
  const raw: number[] = [0, -0, 0.001, 0.004, 0.005, 0.006, 0.015, 0.1, 0.5, 1, 1.005, 1.1, 1.25, 9.995]
  raw.push(10.05, 99.995, 100, 123456.785, 999_999_999.99, 1e9, 1e12 + 0.25, 1e21, -1.5, 0.123456789)
  raw.push(Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_VALUE, Number.MIN_VALUE)
  // Every hundredth below 100 ms, and a spread of larger and odd values.
  for (let c = 0; c < 10_000; c++) raw.push(c / 100)
  let x = 1
  for (let i = 0; i < 5_000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    raw.push((x / 2 ** 31) * 10 ** (i % 10))
  }
  // The rounded values access-log.ts writes, and the raw ones an embedder could pass.
  return [...raw.map((v) => Math.round(v * 100) / 100), ...raw]
}

test('the access line writes ms and time as JSON.stringify does', async (t) => {
  const config = resolveConfig({ admin: { listen: '127.0.0.1:0' } })
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-line-num-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'out.log')
  const fd = openSync(path, 'w')
  t.after(() => closeSync(fd))
  const out = new LineBuffer({ fd })
  const root = pino({ level: 'info', base: { pid: process.pid } }, out)
  const child = root.child({ listener: 'reverse' }) as unknown as FastifyBaseLogger
  const writer = new AccessLineWriter(root, config.log, out, null)
  const values = msValues()
  const before: number[] = []
  for (const ms of values) {
    before.push(Date.now())
    writer.write(child, 'reverse', { ...base, ms })
  }
  const after = Date.now()
  await new Promise<void>((resolve) => out.flush(() => resolve()))
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '')
  assert.equal(lines.length, values.length)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const ms = /,"ms":([^,]*),/.exec(line)?.[1]
    const expected = JSON.stringify(Number.isFinite(values[i]) ? values[i] : null)
    assert.equal(ms, expected, `ms ${values[i]}`)
    const time = Number(/^\{"level":30,"time":(\d+),/.exec(line)?.[1])
    assert.ok(
      time >= before[i]! && time <= (before[i + 1] ?? after),
      `line ${i}: time ${time} is not the line's`,
    )
    assert.doesNotThrow(() => JSON.parse(line))
  }
})
