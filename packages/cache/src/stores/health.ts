import type { Cluster, Redis } from 'ioredis'

export interface RedisHealth {
  /** Every command the gateway sends can be answered now. */
  ok: boolean
  /** Why not, for people: `primary 127.0.0.1:7001 unreachable`, `cluster_state:fail` … (`ok` when ok). */
  detail: string
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/**
 * Whether Redis answers every key, within `timeoutMs`. One server or a Sentinel group's primary: a PING
 * (a Sentinel client with no primary is not connected, so that fails at once). A cluster: every primary
 * that the client's slot table names must be connected and answer PING, and the cluster must say
 * `cluster_state:ok`: a PING to any one node would pass while a third of the keys fail, and a killed
 * primary leaves the client's node list (so a ping of the listed primaries passes too) before the
 * cluster has promoted its replica.
 */
export async function redisHealth(client: Redis | Cluster, timeoutMs = 1000): Promise<RedisHealth> {
  try {
    if (client.status !== 'ready') return { ok: false, detail: `connection ${client.status}` }
    if (!client.isCluster) {
      await within(client.ping(), timeoutMs, 'PING')
      return { ok: true, detail: 'ok' }
    }
    const cluster = client as Cluster
    const nodes = new Map(cluster.nodes('all').map((n) => [`${n.options.host}:${n.options.port}`, n]))
    const primaries = new Set<string>()
    for (let slot = 0; slot < 16384; slot++) {
      const owner = cluster.slots[slot]?.[0]
      if (owner === undefined) return { ok: false, detail: `slot ${slot} has no primary` }
      primaries.add(owner)
    }
    const checks = [...primaries].map(async (key) => {
      const node = nodes.get(key)
      // A node connects on its first command (a cluster client's nodes are lazy): connect one not used yet.
      if (node?.status === 'wait') await within(node.connect(), timeoutMs, `primary ${key}`)
      if (node === undefined || node.status !== 'ready') throw new Error(`primary ${key} unreachable`)
      await within(node.ping(), timeoutMs, `primary ${key}`)
    })
    await Promise.all(checks)
    const info = String(await within(cluster.cluster('INFO'), timeoutMs, 'CLUSTER INFO'))
    const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown'
    if (state !== 'ok') return { ok: false, detail: `cluster_state:${state}` }
    return { ok: true, detail: 'ok' }
  } catch (err) {
    return { ok: false, detail: (err as Error).message }
  }
}
