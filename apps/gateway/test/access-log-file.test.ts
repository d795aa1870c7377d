// Issue 27 item 8: `log.file` writes access lines to a file rotated by size (pino-roll), keeping at most
// `keep` rotated files beside the current one, with only the `log.fields` chosen; stdout keeps the other lines and no access line.
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

test('log.file: access lines to a rotated file with the chosen fields, none on stdout', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-log-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
    log: {
      file: { path: join(dir, 'logs', 'access.log'), rotate: { size: '1KiB', keep: 2 } },
      fields: ['method', 'target', 'status'],
    },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const total = 150
  for (let i = 0; i < total; i++) {
    await (await request(`${gw.urls.reverse}/item/${i}`)).body.dump()
    // Lines are written in batches (at most every 100 ms) and a file is rotated once a write has taken it
    // past `size`: a pause after every 20 requests (about 1.3 KiB of lines) makes each batch a write of its
    // own, so the 150 lines rotate the file several times however fast the requests are answered.
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 250))
  }

  // The transport writes from its own thread: wait (bounded) until the last request's line is there.
  const lines = async () => {
    const listed = (await readdir(join(dir, 'logs')).catch(() => [] as string[])).sort()
    const names: string[] = []
    const all: Array<Record<string, unknown>> = []
    for (const n of listed) {
      // Rotation may delete an old file between the listing and the read: it is gone, not an error.
      const text = await readFile(join(dir, 'logs', n), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null
        throw e
      })
      if (text === null) continue
      names.push(n)
      for (const l of text.split('\n')) if (l.startsWith('{')) all.push(JSON.parse(l))
    }
    return { names, all }
  }
  const deadline = Date.now() + 30_000
  let seen = await lines()
  while (!seen.all.some((l) => l.target === `/item/${total - 1}`) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200))
    seen = await lines()
  }
  assert.ok(
    seen.all.some((l) => l.target === `/item/${total - 1}`),
    `last line written: ${seen.names}`,
  )
  assert.ok(
    seen.names.every((n) => /^access\.\d+\.log$/.test(n)),
    `numbered files: ${seen.names}`,
  )
  assert.ok(
    seen.names.length >= 1 && seen.names.length <= 3,
    `the current file and keep=2 more: ${seen.names}`,
  )
  const newest = Math.max(...seen.names.map((n) => Number(n.split('.')[1])))
  assert.ok(newest >= 4, `rotated more often than files are kept: ${seen.names}`)
  assert.ok(
    seen.all.length < total,
    `older lines went with the deleted files: it rotated (${seen.names}, ${seen.all.length} lines)`,
  )
  for (const l of seen.all) {
    assert.deepEqual(Object.keys(l).sort(), ['level', 'method', 'msg', 'pid', 'status', 'target', 'time'])
    assert.equal(l.status, 200)
  }
  assert.equal(gw.logs.filter((l) => l.msg === 'access').length, 0, 'no access line on stdout')
  assert.ok(
    gw.logs.some((l) => l.event === 'listening'),
    'other lines stay on stdout',
  )
  assert.equal(await gw.stop(), 0)
})
