import {
  BadGatewayError,
  classifyAddress,
  ForbiddenError,
  GatewayTimeoutError,
  LoopDetectedError,
  type ProxyError,
  type ProxyTarget,
  parseIp,
} from '@proxykit/core'
import type { FastifyRequest } from 'fastify'
import type ipaddr from 'ipaddr.js'
import type { ResolvedOptions } from './options.js'
import { reachesOwnListener } from './own-listeners.js'

/** The address a request will be connected to: already checked, so nothing may resolve the name again. */
export interface Destination {
  address: string
  family: 4 | 6
}

function inRanges(ip: ipaddr.IPv4 | ipaddr.IPv6, ranges: ResolvedOptions['allowRanges']): boolean {
  for (const [base, bits] of ranges) if (base.kind() === ip.kind() && ip.match(base, bits)) return true
  return false
}

/**
 * Why `address` may not be connected to, or null when it may. Deny CIDRs win; then allow CIDRs and allowed
 * classes; everything else must be a public address. Unparseable input is refused (fail closed).
 */
export function addressDenied(address: string, opts: ResolvedOptions): string | null {
  const ip = parseIp(address)
  return ip === null ? notAnAddress(address) : ipDenied(ip, opts)
}

const notAnAddress = (address: string) => `${address} is not an IP address`

/**
 * Records a refusal by this proxy's own policy on `request.proxy.access`, as access-control records its
 * rules', so an access log or a denial count names the rule that refused (`forward.connectPorts`) instead of
 * an access rule that had allowed the request before the proxy looked at the port or address.
 */
export function recordRefusal(request: FastifyRequest, rule: string): void {
  request.proxy.access = { decision: 'deny', rule, user: request.proxy.access?.user ?? null }
}

/** The option whose policy refuses `ip`, for `recordRefusal`: a deny CIDR, or an address not allowed. */
function ruleOf(ip: ipaddr.IPv4 | ipaddr.IPv6, opts: ResolvedOptions): string {
  return inRanges(ip, opts.denyRanges) ? 'forward.deny' : 'forward.allow'
}

/** `addressDenied` for an address already parsed. */
function ipDenied(ip: ipaddr.IPv4 | ipaddr.IPv6, opts: ResolvedOptions): string | null {
  if (inRanges(ip, opts.denyRanges)) return `${ip.toString()} is denied by configuration`
  if (inRanges(ip, opts.allowRanges)) return null
  const cls = classifyAddress(ip)
  if (cls === 'public' || opts.allowClasses.has(cls)) return null
  return `${ip.toString()} is a ${cls} address`
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GatewayTimeoutError(what)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Where `target` may be connected to for `request`: the host resolved (unless it is a literal address),
 * each address checked against the configured policy and then every `request.proxy.connectGuards`
 * entry (access-control's address rules), and the first one that passes returned. The caller connects
 * to exactly that address, so a name that resolves to a denied address, or that re-resolves differently
 * later (DNS rebinding), never reaches a socket.
 */
export async function resolveDestination(
  target: ProxyTarget,
  request: FastifyRequest,
  opts: ResolvedOptions,
): Promise<Destination | ProxyError> {
  if (target.family !== 0) return checkDestination(target, request, opts)
  const candidates = await lookupName(target.hostname, opts)
  if (candidates instanceof Error) return candidates
  return checkCandidates(candidates, target, request, opts)
}

type Candidate = { address: string; family: number }

/** Every address `hostname` resolves to, within the connect timeout (504), or a 502 naming it. */
async function lookupName(hostname: string, opts: ResolvedOptions): Promise<Candidate[] | ProxyError> {
  let candidates: Candidate[]
  try {
    candidates = await withTimeout(
      opts.lookup(hostname),
      opts.connectTimeout,
      `resolving ${hostname} took too long`,
    )
  } catch (err) {
    if (err instanceof Error && (err as ProxyError).statusCode === 504) return err as ProxyError
    return new BadGatewayError(`cannot resolve ${hostname}`, { cause: err })
  }
  if (!Array.isArray(candidates) || candidates.length === 0)
    return new BadGatewayError(`cannot resolve ${hostname}`)
  return candidates
}

/** The first reason a connect guard (access-control's address rules) gives to refuse `ip`, or null. */
function guardsRefuse(ip: ipaddr.IPv4 | ipaddr.IPv6, request: FastifyRequest): string | null {
  const guards = request.proxy.connectGuards
  if (guards.length === 0) return null
  const address = ip.toString()
  const family = ip.kind() === 'ipv6' ? 6 : 4
  for (let i = 0; i < guards.length; i++) {
    const reason = guards[i]!(address, family, request)
    if (reason !== null) return reason
  }
  return null
}

/**
 * The destination check when a parent proxy connects for us. The parent resolves names, so this proxy's
 * own address guard trusts it with them (and still refuses a denied literal address). Address rules an
 * operator wrote (`request.proxy.connectGuards`, from access-control) are a policy, though, and must not
 * pass unchecked: a literal address is checked as it is; a name is resolved here and every answer must
 * pass, since the parent may connect to any of them. A name that does not resolve here is refused (fail
 * closed). The parent may still resolve differently from this proxy: see the README.
 */
export function checkThroughParent(
  target: ProxyTarget,
  request: FastifyRequest,
  opts: ResolvedOptions,
): ProxyError | null | Promise<ProxyError | null> {
  if (target.family !== 0) {
    const ip = parseIp(target.hostname)
    const own = ip === null ? notAnAddress(target.hostname) : ipDenied(ip, opts)
    if (own !== null) {
      recordRefusal(request, ip === null ? 'forward.allow' : ruleOf(ip, opts))
      return new ForbiddenError(`destination refused: ${own}`)
    }
    const reason = guardsRefuse(ip!, request)
    return reason === null ? null : new ForbiddenError(`destination refused: ${reason}`)
  }
  if (request.proxy.connectGuards.length === 0) return null
  return lookupName(target.hostname, opts).then((candidates) => {
    if (candidates instanceof Error)
      return new ForbiddenError(
        `destination ${target.hostname} refused: its address rules cannot be checked (${candidates.message})`,
      )
    for (const c of candidates) {
      const ip = parseIp(c.address)
      const reason = ip === null ? notAnAddress(c.address) : guardsRefuse(ip, request)
      if (reason !== null) return new ForbiddenError(`destination ${target.hostname} refused: ${reason}`)
    }
    return null
  })
}

/** `resolveDestination` for a target that is a literal address: no lookup, so no promise either. */
export function checkDestination(
  target: ProxyTarget,
  request: FastifyRequest,
  opts: ResolvedOptions,
): Destination | ProxyError {
  return checkCandidates([{ address: target.hostname, family: target.family }], target, request, opts)
}

function checkCandidates(
  candidates: Candidate[],
  target: ProxyTarget,
  request: FastifyRequest,
  opts: ResolvedOptions,
): Destination | ProxyError {
  let firstReason: string | null = null
  // The rule of the first refusal by this proxy's own policy (a connect guard records its own).
  let firstRule: string | null = null
  for (const c of candidates) {
    const ip = parseIp(c.address)
    const own = ip === null ? notAnAddress(c.address) : ipDenied(ip, opts)
    if (own !== null && firstReason === null) firstRule = ip === null ? 'forward.allow' : ruleOf(ip, opts)
    const reason = own ?? guardsRefuse(ip!, request)
    if (ip !== null && reason === null) {
      // Once: an IPv4 address's toString() joins its octets, a string built anew on every call.
      const address = ip.toString()
      if (
        isSelf(address, target.port, request) ||
        reachesOwnListener(address, target.port, opts.selfAddresses)
      ) {
        recordRefusal(request, 'forward.self')
        return new LoopDetectedError(`${target.authority} is this proxy`)
      }
      if (reachesOwnListener(address, target.port, opts.ownAddresses)) {
        recordRefusal(request, 'forward.self')
        return new ForbiddenError(`destination ${target.authority} is one of this server's own listeners`)
      }
      return { address, family: ip.kind() === 'ipv6' ? 6 : 4 }
    }
    firstReason ??= reason
  }
  if (firstRule !== null) recordRefusal(request, firstRule)
  return new ForbiddenError(`destination ${target.hostname} refused: ${firstReason}`)
}

/**
 * Whether address:port is the very socket the request arrived on: forwarding there would loop. Node asks the
 * kernel (getsockname) once per connection and keeps the answer on the socket (`_sockname`), so reading
 * `localPort` per request costs no system call.
 */
function isSelf(address: string, port: number, request: FastifyRequest): boolean {
  const socket = request.raw.socket
  if (socket.localPort !== port || socket.localAddress === undefined) return false
  return parseIp(socket.localAddress)?.toString() === address
}
