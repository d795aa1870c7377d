import { networkInterfaces } from 'node:os'
import { classifyAddress, parseIp } from '@proxykit/core'

/** An address:port this server (or a sibling of it) listens on: never a destination. */
export interface OwnAddress {
  /** The bound address as `server.address()` gives it (`0.0.0.0` and `::` mean every local address). */
  address: string
  port: number
}

function isLocalAddress(ip: string): boolean {
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) if (parseIp(i.address)?.toString() === ip) return true
  return false
}

/**
 * Whether `ip` (canonical, IPv4-mapped already unwrapped) on `port` reaches one of `own`. A listener on a
 * wildcard address answers on every local address: any loopback address (all of 127.0.0.0/8), the
 * unspecified address (Linux connects 0.0.0.0 to the host itself) and each interface's. A listener on a
 * name (a config read before binding) is taken as loopback, so the check errs on refusing. Only an entry
 * with the same port costs more than a comparison, so the usual request pays a loop over a few ports.
 */
export function reachesOwnListener(ip: string, port: number, own: Iterable<OwnAddress>): boolean {
  for (const o of own) {
    if (o.port !== port) continue
    const bound = parseIp(o.address)
    const target = parseIp(ip)
    if (target === null) return true
    if (bound === null || classifyAddress(bound) === 'unspecified') {
      // An IPv4 wildcard does not take IPv6 connections; `::` (dual stack) takes both.
      if (bound !== null && bound.kind() === 'ipv4' && target.kind() === 'ipv6') continue
      const cls = classifyAddress(target)
      if (cls === 'loopback' || cls === 'unspecified' || isLocalAddress(target.toString())) return true
      continue
    }
    if (bound.toString() === target.toString()) return true
  }
  return false
}
