import { isIP } from 'node:net'
import { ADDRESS_CLASSES, type AddressClass } from '@proxykit/core'

/** A forward `allow`/`deny` list split by kind: host patterns go to access control, addresses to both. */
export interface Destinations {
  hosts: string[]
  /** Addresses and CIDRs. */
  ranges: string[]
  classes: AddressClass[]
}

export function splitDestinations(entries: string[]): Destinations {
  const out: Destinations = { hosts: [], ranges: [], classes: [] }
  for (const e of entries) {
    if ((ADDRESS_CLASSES as readonly string[]).includes(e)) out.classes.push(e as AddressClass)
    else if (isIP(e.split('/')[0]!.replace(/^\[|\]$/g, '')) !== 0) out.ranges.push(e.replace(/^\[|\]$/g, ''))
    else out.hosts.push(e.toLowerCase())
  }
  return out
}

/** Every class but `public`: what `allowPrivate: true` opens. */
export const NON_PUBLIC_CLASSES = ADDRESS_CLASSES.filter((c) => c !== 'public')
