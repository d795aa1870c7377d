import { installProxyContext } from '@proxykit/core'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

// Placeholder until its own issue fills it: installs the shared context so it registers alone.
const plugin: FastifyPluginAsync = async (fastify) => {
  installProxyContext(fastify)
}

export default fp(plugin, { name: '@proxykit/reverse-proxy', fastify: '5.x' })
