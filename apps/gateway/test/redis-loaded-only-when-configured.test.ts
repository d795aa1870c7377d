import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import net from 'node:net'
import { test } from 'node:test'

// ioredis is the largest module the gateway can load; a config without `redis` never loads it (memory,
// issue 28). Checked in a fresh process: whether any ioredis file is in the module cache after start.

const GATEWAY = new URL('../src/index.js', import.meta.url).href

function run(config: unknown): Promise<{ loaded: boolean }> {
  const script = `
    import { createRequire } from 'node:module'
    const { resolveConfig, startGateway } = await import(${JSON.stringify(GATEWAY)})
    const pino = (await import('pino')).default
    const gw = await startGateway(resolveConfig(${JSON.stringify(config)}), { logger: pino({ level: 'silent' }) })
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/ioredis/'))
    await gw.close(100)
    process.stdout.write(JSON.stringify({ loaded }))
  `
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: new URL('../..', import.meta.url), timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`))
        else resolve(JSON.parse(stdout))
      },
    )
  })
}

test('ioredis is loaded only when the config has redis', async (t) => {
  // A loopback port with nothing listening: the gateway starts with Redis down (it retries in the
  // background), which is enough to see the module loaded.
  const closed = net.createServer()
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
  const port = (closed.address() as net.AddressInfo).port
  await new Promise((r) => closed.close(r))
  t.diagnostic(`redis port without a server: ${port}`)
  const reverse = { listen: '127.0.0.1:0', routes: [{ upstreams: ['http://127.0.0.1:1'] }] }
  const without = await run({ reverse, admin: { listen: '127.0.0.1:0' } })
  assert.equal(without.loaded, false, 'no redis: ioredis not loaded')
  const withRedis = await run({
    reverse,
    admin: { listen: '127.0.0.1:0' },
    redis: `redis://127.0.0.1:${port}`,
  })
  assert.equal(withRedis.loaded, true, 'redis configured: ioredis loaded')
})
