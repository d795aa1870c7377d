import assert from 'node:assert/strict'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { LineBuffer } from '../src/log-destination.js'

// Issue 28 item 2: a write per log line (or per few: sonic-boom wrote whatever had come since its last
// write finished) was most of what the access log cost a request. The gateway's destination writes the
// lines of up to 100 ms together: 300 lines logged 1 ms apart take a handful of write system calls
// (counted by the kernel: /proc/self/io's syscw), not one each, and every line arrives whole, in order.

/** write(2)-family system calls made by this process so far. */
function writeCalls(): number {
  return Number(/^syscw:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))![1])
}

test('lines logged over many event-loop turns are written a few writes at a time, whole and in order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-lines-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'out.log')
  const fd = openSync(path, 'w')
  t.after(() => closeSync(fd))
  const out = new LineBuffer({ fd })
  const lines = 300
  const started = performance.now()
  const before = writeCalls()
  for (let i = 0; i < lines; i++) {
    out.write(`{"msg":"access","i":${i},"pad":"${'x'.repeat(200)}"}\n`)
    await new Promise((r) => setTimeout(r, 1))
  }
  await new Promise<void>((resolve) => out.flush(() => resolve()))
  const calls = writeCalls() - before
  const elapsed = performance.now() - started

  const written = readFileSync(path, 'utf8').split('\n').slice(0, -1)
  assert.deepEqual(
    written.map((l) => (JSON.parse(l) as { i: number }).i),
    Array.from({ length: lines }, (_, i) => i),
  )
  // One write per 100 ms of lines, and one more system call each for the thread pool's completion
  // notice; the slack covers the test runner's own writes. A write per line would be 300 or more.
  const bound = 2 * Math.ceil(elapsed / 100) + 10
  assert.ok(calls <= Math.min(bound, lines / 3), `${calls} write calls for ${lines} lines in ${elapsed} ms`)
})
