// One private redis-server for tests, and the loopback port helpers the topologies in redis.ts share.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RedisServer {
  url: string
  port: number
  process: ChildProcess
  stop(): Promise<void>
  /** Start it again on the same port (after `stop`). */
  restart(): Promise<void>
}

async function freePort(): Promise<number> {
  const s = net.createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** `n` distinct free ports (all held open while they are chosen). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer().listen(0, '127.0.0.1'))
  await Promise.all(servers.map((s) => once(s, 'listening')))
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  return ports
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1')
      c.once('connect', () => {
        c.destroy()
        resolve(true)
      })
      c.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(25)
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`)
}

/**
 * A private redis-server on a loopback port (Debian's `redis-server` must be installed; `.ci/run`
 * installs it). For tests that stop and restart Redis; other tests use the shared `REDIS_URL`.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort()
  let child: ChildProcess
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    )
    const failed = once(child, 'error').then(([err]) => {
      throw err
    })
    failed.catch(() => {})
    await Promise.race([waitForPort(port, 5000), failed])
  }
  await start()
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    get process() {
      return child
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
    async restart() {
      await start()
    },
  }
  return server
}

/**
 * The Redis URL for tests: `REDIS_URL` when set (CI starts one), else a private server started here.
 * Returns null only when neither is possible and we are not in CI (the caller skips); in CI it throws,
 * because Redis tests must run there.
 */
export async function redisForTests(): Promise<{ url: string; stop(): Promise<void> } | null> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} }
  try {
    const s = await startRedisServer()
    return { url: s.url, stop: () => s.stop() }
  } catch (err) {
    if (process.env.CI) throw err
    return null
  }
}
