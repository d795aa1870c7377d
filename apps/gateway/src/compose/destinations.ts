import { isIP } from 'node:net'
import { ADDRESS_CLASSES, type AddressClass } from '@proxykit/core'
import { splitPortSuffix } from '../config/formats.js'

/** A forward `allow`/`deny` list split by kind: host patterns go to access control, addresses to both. */
export interface Destinations {
  hosts: string[]
  /** Addresses and CIDRs. */
  ranges: string[]
  classes: AddressClass[]
  /** Entries with `:port` or `:low-high`: access-control rules of their own (hosts, ranges or classes). */
  withPorts: Array<{ ports: string } & Omit<Destinations, 'withPorts'>>
}

function kindOf(entry: string, out: Omit<Destinations, 'withPorts'>): void {
  if ((ADDRESS_CLASSES as readonly string[]).includes(entry)) out.classes.push(entry as AddressClass)
  else if (isIP(entry.split('/')[0]!.replace(/^\[|\]$/g, '')) !== 0)
    out.ranges.push(entry.replace(/^\[|\]$/g, ''))
  else out.hosts.push(entry.toLowerCase())
}

export function splitDestinations(entries: string[]): Destinations {
  const out: Destinations = { hosts: [], ranges: [], classes: [], withPorts: [] }
  for (const e of entries) {
    const { value, ports } = splitPortSuffix(e)
    if (ports === null) kindOf(e, out)
    else {
      const one = { ports, hosts: [], ranges: [], classes: [] }
      kindOf(value, one)
      out.withPorts.push(one)
    }
  }
  return out
}

/** Every class but `public`: what `allowPrivate: true` opens. */
export const NON_PUBLIC_CLASSES = ADDRESS_CLASSES.filter((c) => c !== 'public')
