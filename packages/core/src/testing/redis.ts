// Redis topologies for failover tests: a Cluster of 3+3 and a Sentinel group, real processes on loopback
// ports. One plain server is in redis-server.ts.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePorts, waitForPort } from './redis-server.js'

/** One redis-server (or sentinel) process of a group started by the helpers below. */
export interface RedisNode {
  port: number
  url: string
  process: ChildProcess
  /** SIGKILL, as a crash would (failover tests); resolves once the process is gone. */
  kill(): Promise<void>
}

export interface RedisCluster {
  /** Every node's URL (primaries first): what `redis: { cluster: [...] }` takes. */
  urls: string[]
  nodes: RedisNode[]
  /** The nodes that are primaries now (asked of the cluster, so it follows failovers). */
  primaries(): Promise<RedisNode[]>
  stop(): Promise<void>
}

export interface RedisSentinelGroup {
  /** The sentinels' URLs: what `redis: { sentinels: [...], name }` takes. */
  sentinelUrls: string[]
  /** The monitored group's name. */
  name: string
  /** The data nodes, the first one the primary at start. */
  servers: RedisNode[]
  sentinels: RedisNode[]
  /** The data node the sentinels call primary now. */
  primary(): Promise<RedisNode>
  stop(): Promise<void>
}

function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 }, (err, out) =>
      resolve(err ? '' : String(out)),
    )
  })
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms`)
}

async function spawnNode(
  command: string,
  args: string[],
  port: number,
  group: { nodes: RedisNode[] },
): Promise<RedisNode> {
  const child = spawn(command, args, { stdio: 'ignore' })
  const failed = once(child, 'error').then(([err]) => {
    throw err
  })
  failed.catch(() => {})
  const node: RedisNode = {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
  }
  group.nodes.push(node)
  await Promise.race([waitForPort(port, 10_000), failed])
  return node
}

async function stopGroup(nodes: RedisNode[], dirs: string[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.kill()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
}

const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']

/**
 * A Redis Cluster of 3 primaries and 3 replicas on free loopback ports, each node in its own temporary
 * directory; resolves once every node reports `cluster_state:ok` and knows all six, and every replica is
 * in sync with its primary, so that a killed primary fails over (bounded by `timeoutMs`, generous for a
 * loaded CI machine). `stop()` kills every node and removes the directories.
 */
export async function startRedisCluster(
  options: { nodeTimeoutMs?: number; timeoutMs?: number } = {},
): Promise<RedisCluster> {
  const group = { nodes: [] as RedisNode[] }
  const dirs: string[] = []
  const timeoutMs = options.timeoutMs ?? 60_000
  try {
    const ports = await freePorts(12)
    for (let i = 0; i < 6; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'proxykit-cluster-'))
      dirs.push(dir)
      // The bus port is chosen too: the default (port + 10000) may be taken or past 65535.
      const [port, bus] = [ports[i]!, ports[i + 6]!]
      await spawnNode(
        'redis-server',
        [
          '--port',
          String(port),
          '--cluster-port',
          String(bus),
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 2000),
          // A replica's first sync otherwise waits 5 s for more replicas to share the transfer.
          '--repl-diskless-sync-delay',
          '0',
          '--dir',
          dir,
          ...common,
        ],
        port,
        group,
      )
    }
    const addrs = group.nodes.map((n) => `127.0.0.1:${n.port}`)
    await new Promise<void>((resolve, reject) => {
      execFile(
        'redis-cli',
        ['--cluster', 'create', ...addrs, '--cluster-replicas', '1', '--cluster-yes'],
        { timeout: timeoutMs },
        (err, _out, stderr) =>
          err ? reject(new Error(`redis-cli --cluster create: ${stderr || err}`)) : resolve(),
      )
    })
    await waitFor('cluster_state:ok on every node', timeoutMs, async () => {
      for (const n of group.nodes) {
        const info = await redisCli(n.port, 'cluster', 'info')
        if (!info.includes('cluster_state:ok') || !info.includes('cluster_known_nodes:6')) return false
      }
      return true
    })
    // A replica that never finished its first sync is never promoted (its data counts as too old for
    // `cluster-replica-validity-factor`): a primary killed before then leaves its slots down for good.
    await waitFor('every replica in sync', timeoutMs, async () => {
      let synced = 0
      for (const n of group.nodes) {
        const info = await redisCli(n.port, 'info', 'replication')
        if (info.includes('role:slave')) {
          if (!info.includes('master_link_status:up')) return false
          synced++
        }
      }
      return synced === 3
    })
  } catch (err) {
    await stopGroup(group.nodes, dirs)
    throw err
  }
  const byPort = new Map(group.nodes.map((n) => [n.port, n]))
  return {
    urls: group.nodes.map((n) => n.url),
    nodes: group.nodes,
    async primaries() {
      for (const n of group.nodes) {
        if (n.process.exitCode !== null || n.process.signalCode !== null) continue
        const lines = (await redisCli(n.port, 'cluster', 'nodes')).split('\n')
        const found = lines
          .filter((l) => /\bmaster\b/.test(l) && !/\bfail\b/.test(l))
          .map((l) => byPort.get(Number(l.split(' ')[1]?.split('@')[0]?.split(':')[1])))
          .filter((x): x is RedisNode => x !== undefined)
        if (found.length > 0) return found
      }
      return []
    },
    stop: () => stopGroup(group.nodes, dirs),
  }
}

/**
 * A Sentinel group on free loopback ports: one primary, two replicas and three sentinels (Debian's
 * `redis-sentinel`; `.ci/run` installs it) monitoring it as `name`. Resolves once both replicas are in
 * sync and every sentinel knows the two others and both replicas (bounded by `timeoutMs`).
 */
export async function startRedisSentinel(
  options: { name?: string; downAfterMs?: number; timeoutMs?: number } = {},
): Promise<RedisSentinelGroup> {
  const name = options.name ?? 'proxykit'
  const timeoutMs = options.timeoutMs ?? 60_000
  const servers = { nodes: [] as RedisNode[] }
  const sentinels = { nodes: [] as RedisNode[] }
  const dirs: string[] = []
  const all = () => [...sentinels.nodes, ...servers.nodes]
  const ports = await freePorts(6)
  try {
    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'proxykit-sentinel-'))
      dirs.push(dir)
      const port = ports[i]!
      const replicaOf = i === 0 ? [] : ['--replicaof', '127.0.0.1', String(servers.nodes[0]!.port)]
      await spawnNode(
        'redis-server',
        ['--port', String(port), '--dir', dir, ...replicaOf, ...common],
        port,
        servers,
      )
    }
    const primary = servers.nodes[0]!
    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'proxykit-sentinel-'))
      dirs.push(dir)
      const port = ports[i + 3]!
      // A sentinel rewrites its config file (what it learns), so each has its own.
      const conf = join(dir, 'sentinel.conf')
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 2`,
          '',
        ].join('\n'),
      )
      await spawnNode('redis-sentinel', [conf], port, sentinels)
    }
    await waitFor('replicas in sync', timeoutMs, async () => {
      for (const n of servers.nodes.slice(1))
        if (!(await redisCli(n.port, 'info', 'replication')).includes('master_link_status:up')) return false
      return true
    })
    await waitFor('every sentinel knowing the group', timeoutMs, async () => {
      for (const s of sentinels.nodes) {
        const fields = (await redisCli(s.port, 'sentinel', 'master', name)).split('\n').map((l) => l.trim())
        const field = (k: string) => Number(fields[fields.indexOf(k) + 1])
        if (fields.indexOf('num-other-sentinels') < 0) return false
        if (field('num-other-sentinels') < 2 || field('num-slaves') < 2) return false
      }
      return true
    })
  } catch (err) {
    await stopGroup(all(), dirs)
    throw err
  }
  return {
    sentinelUrls: sentinels.nodes.map((n) => n.url),
    name,
    servers: servers.nodes,
    sentinels: sentinels.nodes,
    async primary() {
      for (const s of sentinels.nodes) {
        if (s.process.exitCode !== null || s.process.signalCode !== null) continue
        const [, port] = (await redisCli(s.port, 'sentinel', 'get-master-addr-by-name', name))
          .trim()
          .split('\n')
        const node = servers.nodes.find((n) => n.port === Number(port))
        if (node !== undefined) return node
      }
      throw new Error(`no sentinel names a primary for ${name}`)
    },
    stop: () => stopGroup(all(), dirs),
  }
}
