import { isIP } from 'node:net'
import { normalizeHost } from '@proxykit/core'

/**
 * A host pattern, normalised like a request's host (core's `normalizeHost`: lower case, no trailing dot,
 * IDN as punycode, every spelling of an IPv4 address as a dotted quad).
 * - `example.com`: that host only;
 * - `*.example.com`: any subdomain of example.com, at any depth, not example.com itself;
 * - `.example.com`: example.com and any subdomain (Squid's `dstdomain` spelling).
 */
export interface HostPattern {
  kind: 'exact' | 'subdomains' | 'domain'
  host: string
}

export function parseHostPattern(input: string): HostPattern | string {
  let kind: HostPattern['kind'] = 'exact'
  let text = input.trim()
  if (text.startsWith('*.')) {
    kind = 'subdomains'
    text = text.slice(2)
  } else if (text.startsWith('.')) {
    kind = 'domain'
    text = text.slice(1)
  }
  if (text.includes('*')) return `"${input}" is not a host pattern (a "*" is allowed only as "*.domain")`
  const host = normalizeHost(text)
  if (host === null) return `"${input}" is not a valid host`
  // A request's host is normalised the URL parser's way (`010.0.0.1` is octal, 8.0.0.1), which is right for
  // what a client sends but not for a rule someone wrote: they meant what it reads as, so say it plainly.
  if (host.family === 4 && isIP(text.endsWith('.') ? text.slice(0, -1) : text) !== 4)
    return `"${input}" spells the IPv4 address ${host.hostname} unusually: write it as four decimal octets`
  if (kind !== 'exact' && host.family !== 0)
    return `"${input}": a wildcard needs a domain name, not an address`
  return { kind, host: host.hostname }
}

function add(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else if (!list.includes(value)) list.push(value)
}

/**
 * Host patterns to values (rule indices), looked up by hash: one lookup for the exact name and two per
 * parent domain, so the cost depends on the number of labels in the host, not the number of patterns.
 */
export class HostIndex {
  readonly #exact = new Map<string, number[]>()
  /** `.example.com`: the domain and its subdomains. */
  readonly #domain = new Map<string, number[]>()
  /** `*.example.com`: strict subdomains. */
  readonly #subdomains = new Map<string, number[]>()
  #size = 0

  get size(): number {
    return this.#size
  }

  insert(pattern: HostPattern, value: number): void {
    const map =
      pattern.kind === 'exact' ? this.#exact : pattern.kind === 'domain' ? this.#domain : this.#subdomains
    add(map, pattern.host, value)
    this.#size++
  }

  /** Calls `found` with every value whose pattern matches the normalised `host`. */
  lookup(host: string, found: (value: number) => void): void {
    const exact = this.#exact.get(host)
    if (exact !== undefined) for (const v of exact) found(v)
    if (this.#domain.size === 0 && this.#subdomains.size === 0) return
    const domain = this.#domain.get(host)
    if (domain !== undefined) for (const v of domain) found(v)
    // An address has no parent domains. A normalised name never ends in a digit (core's normalizeHost
    // takes a name whose last label is numeric for IPv4, or refuses it), so a final digit means IPv4 and
    // a colon IPv6: one character test instead of a regular expression on every request.
    const last = host.charCodeAt(host.length - 1)
    if ((last >= 48 && last <= 57) || host.includes(':')) return
    let dot = host.indexOf('.')
    while (dot !== -1) {
      const parent = host.slice(dot + 1)
      const d = this.#domain.get(parent)
      if (d !== undefined) for (const v of d) found(v)
      const s = this.#subdomains.get(parent)
      if (s !== undefined) for (const v of s) found(v)
      dot = host.indexOf('.', dot + 1)
    }
  }

  has(host: string): boolean {
    let hit = false
    this.lookup(host, () => {
      hit = true
    })
    return hit
  }
}
