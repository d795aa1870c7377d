import { parseIp } from '@proxykit/core'
import type ipaddr from 'ipaddr.js'

/** An address or CIDR, normalised: IPv4-mapped IPv6 (`::ffff:10.0.0.0/104`) becomes IPv4 (`10.0.0.0/8`). */
export interface Cidr {
  kind: 'ipv4' | 'ipv6'
  bytes: number[]
  prefix: number
}

/** Parses `10.0.0.0/8`, `fd00::/8`, `::ffff:127.0.0.0/104` or a single address; null when invalid. */
export function parseCidr(input: string): Cidr | null {
  const text = input.trim()
  const slash = text.indexOf('/')
  const addressText = slash === -1 ? text : text.slice(0, slash)
  const ip = parseIp(addressText)
  if (ip === null) return null
  const wasV6 = addressText.includes(':')
  let prefix: number
  if (slash === -1) prefix = ip.kind() === 'ipv4' ? 32 : 128
  else {
    const p = text.slice(slash + 1)
    if (!/^[0-9]{1,3}$/.test(p)) return null
    prefix = Number(p)
    const max = wasV6 ? 128 : 32
    if (prefix > max) return null
    if (wasV6 && ip.kind() === 'ipv4') {
      // An IPv4-mapped range: only its low 32 bits name IPv4 addresses.
      if (prefix < 96) return null
      prefix -= 96
    }
  }
  return { kind: ip.kind(), bytes: ip.toByteArray(), prefix }
}

interface Node {
  zero: Node | null
  one: Node | null
  /** Values stored at this prefix. */
  values: number[] | null
}

const newNode = (): Node => ({ zero: null, one: null, values: null })

/**
 * A binary prefix tree (one per address family) mapping CIDRs to values (rule indices). A lookup walks at
 * most 32 or 128 bits and collects the values of every prefix containing the address, so its cost does
 * not depend on how many CIDRs are stored.
 */
export class CidrTrie {
  readonly #v4 = newNode()
  readonly #v6 = newNode()
  #size = 0

  get size(): number {
    return this.#size
  }

  insert(cidr: Cidr, value: number): void {
    let node = cidr.kind === 'ipv4' ? this.#v4 : this.#v6
    for (let bit = 0; bit < cidr.prefix; bit++) {
      const set = (cidr.bytes[bit >> 3]! >> (7 - (bit & 7))) & 1
      if (set === 1) node = node.one ??= newNode()
      else node = node.zero ??= newNode()
    }
    if (node.values === null) node.values = [value]
    else if (!node.values.includes(value)) node.values.push(value)
    this.#size++
  }

  /** Calls `found` with every value whose CIDR contains `address`. */
  lookup(address: ipaddr.IPv4 | ipaddr.IPv6, found: (value: number) => void): void {
    const v4 = address.kind() === 'ipv4'
    let node: Node | null = v4 ? this.#v4 : this.#v6
    // An IPv4 address's own octets (read only): toByteArray() copies them, once per request.
    const bytes = v4 ? (address as ipaddr.IPv4).octets : address.toByteArray()
    const bits = v4 ? 32 : 128
    for (let bit = 0; node !== null; bit++) {
      if (node.values !== null) for (const v of node.values) found(v)
      if (bit === bits) break
      node = ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) === 1 ? node.one : node.zero
    }
  }

  /** Whether any stored CIDR contains `address`. */
  has(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    let hit = false
    this.lookup(address, () => {
      hit = true
    })
    return hit
  }
}
