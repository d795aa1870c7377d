import type { ForwardProxyOptions } from '@proxykit/forward-proxy'
import type { ForwardConfig } from '../config/types.js'
import { NON_PUBLIC_CLASSES, splitDestinations } from './destinations.js'

/**
 * @proxykit/forward-proxy options. Its destination guard checks the address actually connected to: only
 * public addresses unless allowed here, so `allowPrivate`, and addresses or classes named in `allow`,
 * open the guard; host names are access control's business (see access.ts).
 */
export function forwardProxyOptions(f: ForwardConfig): ForwardProxyOptions {
  const allow = splitDestinations(f.allow ?? [])
  const deny = splitDestinations(f.deny)
  const classes = new Set<string>(allow.classes)
  if (f.allowPrivate) for (const c of NON_PUBLIC_CLASSES) classes.add(c)
  // An address or class allowed on some ports opens the guard for it; access control (whose default is
  // deny once `allow` is set) keeps the other ports shut. A deny on some ports is access control's alone.
  const ranges = [...allow.ranges]
  for (const e of allow.withPorts) {
    for (const c of e.classes) classes.add(c)
    ranges.push(...e.ranges)
  }
  return {
    mode: f.mode,
    connectPorts: f.connectPorts,
    ports: f.ports,
    allow: [...classes, ...ranges],
    deny: deny.ranges,
    headersTimeout: f.timeoutMs,
    ...(f.parent === null
      ? {}
      : {
          parentProxy: {
            url: f.parent.url,
            ...(f.parent.username === null ? {} : { username: f.parent.username }),
            ...(f.parent.password === null ? {} : { password: f.parent.password }),
          },
        }),
  }
}
