import { installProxyContext, phaseHook } from '@proxykit/core'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { Access } from './access.js'
import { type AccessControlOptions, checkOptions } from './options.js'
import { Limits } from './rate-limit.js'

export type { CidrTrie } from './cidr-trie.js'
export { HostIndex, parseHostPattern } from './host-index.js'
export * from './options.js'
export { checkHashFormat, hashPassword, verifyPassword } from './passwords.js'
export { normalizePath, PathPrefixes } from './path.js'
export { Policy, type RequestFacts } from './rules.js'

const plugin: FastifyPluginAsync<AccessControlOptions> = async (fastify, opts) => {
  installProxyContext(fastify)
  checkOptions(opts)
  const access = new Access(opts)
  const limits = new Limits()
  await limits.register(fastify, opts.rateLimit ?? {})
  access.useLimits(limits)
  fastify.addHook('onRoute', (route) => {
    access.routePolicy(route.config?.accessControl, `route ${route.method} ${route.url} config.accessControl`)
  })
  fastify.addHook(phaseHook('access', 'access-control'), access.onRequest)
}

export const accessControl = fp(plugin, { name: '@proxykit/access-control', fastify: '5.x' })
export default accessControl
