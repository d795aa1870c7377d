import {
  ADDRESS_CLASSES,
  type AddressClass,
  classifyAddress,
  compileTrust,
  ForbiddenError,
  installProxyContext,
  phaseHook,
  sendError,
} from '@proxykit/core'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ClientsConfig } from '../config/types.js'

/** A config's `clients` as a test on an address: false for a client that is denied, or not allowed. */
export type ClientCheck = (address: string) => boolean

function matcher(entries: string[]): (address: string) => boolean {
  const classes = new Set<AddressClass>()
  const ranges: string[] = []
  for (const e of entries) {
    if ((ADDRESS_CLASSES as readonly string[]).includes(e)) classes.add(e as AddressClass)
    else ranges.push(e.replace(/^\[|\]$/g, ''))
  }
  // Addresses and CIDRs through core's trust compiler (proxy-addr: IPv4-mapped IPv6 matches as IPv4),
  // classes through core's classifier (ipaddr.js ranges), as the forward proxy's destination rules do.
  const inRanges = ranges.length === 0 ? null : compileTrust(ranges)
  return (address) =>
    inRanges?.(address, 0) === true || (classes.size > 0 && classes.has(classifyAddress(address)))
}

export function clientCheck(config: ClientsConfig | null): ClientCheck | null {
  if (config === null) return null
  const deny = matcher(config.deny)
  const allow = config.allow === null ? null : matcher(config.allow)
  return (address) => !deny(address) && (allow === null || allow(address))
}

/** The checks that apply to a request, each with the rule name a refusal is logged under. */
export type ClientChecks = (request: FastifyRequest) => Array<{ rule: string; check: ClientCheck }>

/**
 * Refuses denied clients with 403 before access control (no credentials asked of a client that is refused
 * anyway), the cache or a proxy sees the request. The address is `request.ip`: the peer, or what a
 * trusted proxy in front says, as in the logs and the rate limits. Recorded on `request.proxy.access`.
 */
export function refuseClients(app: FastifyInstance, checks: ClientChecks): void {
  // Core's classifying hook first, so `request.proxy` exists when this one runs.
  installProxyContext(app)
  app.addHook(phaseHook('admit', 'gateway'), (request, reply, done) => {
    const address = request.ip
    for (const { rule, check } of checks(request)) {
      if (!check(address)) {
        request.proxy.access = { decision: 'deny', rule, user: null }
        sendError(reply, new ForbiddenError(`client ${address} is not allowed`))
        return
      }
    }
    done()
  })
}
