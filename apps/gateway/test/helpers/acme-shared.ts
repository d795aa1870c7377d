import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startOrigin } from '@proxykit/core/testing'
import { acmeReverse, redirectPortOf, startChallengeRelay } from './acme.js'
import { type RunningGateway, startCli, writeConfig } from './cli.js'
import { startPebble } from './pebble.js'
import { createTestCa, handshake } from './tls.js'

const ORDERING = 'acme: ordering a certificate'
const ISSUED = 'acme: certificate issued'
const LOADED = 'acme: certificate loaded from redis'

/**
 * Two gateway instances with `reverse.tls.acme` (no `certs`, separate `storage` directories) on the Redis
 * that `redis` names, one Pebble, every name resolved to 127.0.0.1. Pebble's HTTP-01 check goes through a
 * relay standing in for a balancer, which sends it to the instance that did *not* order, so the answer
 * must come from Redis. Asserts: exactly one order (our log lines and Pebble's own count of finalized
 * orders), both instances serve the same certificate, and one instance restarted with an empty `storage`
 * loads it from Redis and serves it without ordering.
 */
export async function twoInstancesOneAcmeOrder(
  t: TestContext,
  redis: Record<string, unknown>,
): Promise<void> {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-acme-redis-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const ca = await createTestCa(t)
  const prefix = `acme-${randomBytes(6).toString('hex')}:`

  const instances: RunningGateway[] = []
  const answeredBy: number[] = []
  // Sends the CA's check to the instance that did not order.
  const relayPort = await startChallengeRelay(t, async () => {
    let orderer = -1
    for (let i = 0; i < 600 && orderer < 0; i++) {
      orderer = instances.findIndex((g) => g?.logs.some((l) => l.msg === ORDERING))
      if (orderer < 0) await sleep(50)
    }
    const other = orderer === 0 ? 1 : 0
    // The other instance may still be starting (its ACME client, which answers challenges, starts once
    // every listener is bound): as a balancer's health check would, wait until it says it is listening.
    for (let i = 0; i < 1200 && instances[other] === undefined; i++) await sleep(50)
    answeredBy.push(other)
    const gw = instances[other]
    if (gw === undefined) throw new Error(`instance ${other} did not start in time to answer the challenge`)
    return redirectPortOf(gw)
  })
  const pebble = await startPebble(t, ca, dir, relayPort)

  const start = async (i: number, storage: string) => {
    const file = await writeConfig(t, {
      reverse: acmeReverse(pebble, ca, { storage, redirectPort: 0, upstream: origin.url }),
      redis: { ...redis, prefix },
      admin: { listen: '127.0.0.1:0' },
    })
    const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
    instances[i] = gw
    return gw
  }
  const portOf = (gw: RunningGateway) => Number(new URL(gw.urls.reverse!).port)
  const withPebble = (err: Error) => {
    throw new Error(`${err.message}\npebble:\n${pebble.output()}`)
  }
  // Pebble logs each finalized order ("POST /finalize-order/…"): what the CA itself counts.
  const pebbleOrders = () =>
    pebble
      .output()
      .split('\n')
      .filter((l) => /finalize-order/.test(l)).length

  await Promise.all([start(0, join(dir, 'a')), start(1, join(dir, 'b'))])
  const issued = await Promise.any(
    instances.map((g) => g.waitForLog((l) => l.msg === ISSUED, 240_000)),
  ).catch((err: AggregateError) => withPebble(err.errors[0] as Error))
  const orderer = instances.findIndex((g) => g.logs.some((l) => l.msg === ISSUED))
  const other = 1 - orderer
  const loaded = await instances[other]!.waitForLog((l) => l.msg === LOADED, 120_000).catch(withPebble)
  assert.equal(loaded.fingerprint, issued.fingerprint)
  assert.ok(
    instances[other]!.logs.some(
      (l) => l.msg === 'acme: another instance is ordering; waiting for its certificate',
    ) || instances[other]!.logs.some((l) => l.msg === LOADED),
  )

  const orders = instances.flatMap((g) => g.logs.filter((l) => l.msg === ORDERING))
  assert.equal(orders.length, 1, 'one order placed across the two instances')
  assert.equal(instances[other]!.logs.filter((l) => l.msg === ISSUED).length, 0)
  assert.equal(pebbleOrders(), 1, `Pebble finalized one order:\n${pebble.output()}`)
  // The CA's checks reached only the instance that did not order: it answered from Redis.
  assert.ok(answeredBy.length >= 1)
  assert.ok(answeredBy.every((i) => i === other))

  for (const gw of instances) {
    assert.equal((await handshake(portOf(gw), 'acme.test')).fingerprint, issued.fingerprint)
    assert.equal((await handshake(portOf(gw))).fingerprint, issued.fingerprint)
  }

  // A restart with an empty storage directory (a container without a volume): the certificate comes from
  // Redis, no order is placed.
  assert.equal(await instances[other]!.stop(), 0)
  const again = await start(other, join(dir, 'fresh'))
  const reloaded = await again.waitForLog((l) => l.msg === LOADED, 120_000)
  assert.equal(reloaded.fingerprint, issued.fingerprint)
  assert.equal((await handshake(portOf(again), 'acme.test')).fingerprint, issued.fingerprint)
  assert.ok(!again.logs.some((l) => l.msg === ORDERING))
  assert.equal(pebbleOrders(), 1)
  await Promise.all(instances.map((g) => g.stop()))
}
