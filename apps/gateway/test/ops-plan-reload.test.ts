import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveConfig } from '../src/config/parse.js'
import { planReload } from '../src/ops/reload.js'

const base = {
  forward: { listen: '127.0.0.1:3128', allow: ['127.0.0.1'] },
  reverse: {
    listen: '127.0.0.1:8080',
    routes: [{ name: 'web', prefix: '/', upstreams: ['http://127.0.0.1:9001'], cache: true }],
  },
  admin: { listen: '127.0.0.1:9901', token: 'a-long-token' },
}
const with_ = (patch: (d: any) => void) => {
  const d = structuredClone(base) as any
  patch(d)
  return resolveConfig(d)
}

test('planReload: nothing changed, nothing to do', () => {
  assert.deepEqual(planReload(resolveConfig(base), resolveConfig(base)), {
    rebuild: [],
    applied: [],
    restartNeeded: [],
  })
})

test('planReload: a route change rebuilds only the reverse listener', () => {
  const next = with_((d) => d.reverse.routes[0].upstreams.push('http://127.0.0.1:9002'))
  assert.deepEqual(planReload(resolveConfig(base), next), {
    rebuild: ['reverse'],
    applied: ['reverse'],
    restartNeeded: [],
  })
})

test('planReload: listen addresses, admin, workers and redis need a restart; the rest applies', () => {
  const next = with_((d) => {
    d.reverse.listen = '127.0.0.1:8081'
    d.admin.token = 'another-long-token'
    d.workers = 3
    d.forward.allow.push('localhost')
  })
  const plan = planReload(resolveConfig(base), next)
  assert.deepEqual(plan.rebuild, ['forward'])
  assert.deepEqual(plan.restartNeeded, [
    'reverse.listen: 127.0.0.1:8080 → 127.0.0.1:8081',
    'admin: listen address or token changed',
    'workers: count changed',
  ])
})

test('planReload: a memory cache size change rebuilds the listeners that cache; a store change needs a restart', () => {
  const bigger = with_((d) => {
    d.cache = { maxSize: '512MiB' }
  })
  assert.deepEqual(planReload(resolveConfig(base), bigger), {
    rebuild: ['reverse'],
    applied: ['reverse', 'cache'],
    restartNeeded: [],
  })
  const redis = with_((d) => {
    d.cache = { store: 'redis' }
    d.redis = 'redis://127.0.0.1:6379'
  })
  const plan = planReload(resolveConfig(base), redis)
  assert.deepEqual(plan.rebuild, [])
  assert.deepEqual(plan.restartNeeded, ['cache.store: memory → redis', 'redis: url or prefix changed'])
})

test('planReload: a listener added or removed needs a restart', () => {
  const next = with_((d) => {
    d.forward = undefined
  })
  assert.deepEqual(planReload(resolveConfig(base), next).restartNeeded, ['forward: listener removed'])
})
