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
  return {
    mode: f.mode,
    connectPorts: f.connectPorts,
    allow: [...classes, ...allow.ranges],
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
