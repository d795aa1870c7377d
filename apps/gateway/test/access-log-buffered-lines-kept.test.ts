import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

// Issue 28 item 2: access lines are buffered (log-destination.ts writes them at most every 100 ms or
// 64 KiB). A burst, a `POST /reload` that swaps the reverse listener, another burst, then SIGTERM at once
// (no wait for the log): every request still has exactly one line on stdout, and the last line is the
// shutdown's. Lines lost from the buffer at the reload (a new logger, a dropped buffer) or at exit
// (process.exit before the buffer is written) make the count fall short.

const TOKEN = 'buffered-lines-token'

async function burst(url: string, agent: Agent, tag: string, total: number): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < total) {
        const i = next++
        const res = await request(`${url}/${tag}/${i}`, { dispatcher: agent })
        await res.body.dump()
        assert.equal(res.statusCode, 200)
      }
    }),
  )
}

test('buffered access lines: none lost across POST /reload and an immediate SIGTERM', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const config = (name: string) => ({
    reverse: { listen: '127.0.0.1:0', routes: [{ name, prefix: '/', upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  })
  const file = await writeConfig(t, config('before'), 'gateway.json')
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const agent = new Agent({ connections: 16 })
  t.after(() => agent.close())
  const total = 300

  await burst(gw.urls.reverse!, agent, 'before', total)
  // A route renamed: the reverse listener is rebuilt (a new Fastify instance, the same logger).
  await writeFile(file, JSON.stringify(config('after')))
  const res = await request(`${gw.urls.admin}/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  })
  const body = (await res.body.json()) as { ok: boolean; applied: string[] }
  assert.equal(res.statusCode, 200, JSON.stringify(body))
  assert.deepEqual(body.applied, ['reverse'])
  await burst(gw.urls.reverse!, agent, 'after', total)
  assert.equal(await gw.stop('SIGTERM'), 0)

  const parsed = gw
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  for (const tag of ['before', 'after']) {
    const lines = parsed.filter((l) => l.msg === 'access' && String(l.target).startsWith(`/${tag}/`))
    const targets = new Set(lines.map((l) => l.target))
    assert.equal(lines.length, total, `one access line per request ${tag} the reload`)
    assert.equal(targets.size, total, `each request ${tag} the reload once`)
    for (const l of lines) assert.equal(l.route, tag)
  }
  assert.equal(parsed.at(-1)?.msg, 'gateway stopped')
})
