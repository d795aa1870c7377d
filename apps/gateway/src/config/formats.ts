import { isIP } from 'node:net'
import { ADDRESS_CLASSES } from '@proxykit/core'
import { parseDuration, parseListen, parseSize } from './units.js'

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/

// The password hash formats @proxykit/access-control verifies (`hashPassword` makes the scrypt one).
const SCRYPT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/
const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/

// A name whose last label is a number is an IPv4 address to a URL parser (WHATWG "ends in a number"), never
// a host name: `300.1.1.1`, `010.0.0.1` (octal 8.0.0.1) or `2130706434` must be refused, not taken as names
// that only ever match themselves.
const ENDS_IN_A_NUMBER = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)\.?$/i

function isHostname(s: string): boolean {
  if (isIP(s.replace(/^\[|\]$/g, '')) !== 0) return true
  return HOSTNAME.test(s) && !ENDS_IN_A_NUMBER.test(s)
}

/** An address or a CIDR (`10.0.0.0/8`, `fd00::/8`). */
function isRange(s: string): boolean {
  const slash = s.indexOf('/')
  if (slash === -1) return false
  const family = isIP(s.slice(0, slash))
  const bits = s.slice(slash + 1)
  return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

/** `entry` without a `:port` or `:low-high` suffix, and the suffix (`[::1]:80` → `::1`, `80`). */
export function splitPortSuffix(entry: string): { value: string; ports: string | null } {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']')
    if (end === -1) return { value: entry, ports: null }
    const rest = entry.slice(end + 1)
    const ports = rest === '' ? null : rest.startsWith(':') ? rest.slice(1) : rest
    return { value: entry.slice(1, end), ports }
  }
  const colon = entry.indexOf(':')
  // More than one colon: a bare IPv6 address (a port needs the brackets).
  if (colon === -1 || entry.indexOf(':', colon + 1) !== -1) return { value: entry, ports: null }
  return { value: entry.slice(0, colon), ports: entry.slice(colon + 1) }
}

function isPortRange(s: string): boolean {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s)
  if (m === null) return false
  const lo = Number(m[1])
  const hi = m[2] === undefined ? lo : Number(m[2])
  return lo >= 1 && hi <= 65535 && lo <= hi
}

function isHostPattern(s: string): boolean {
  if ((ADDRESS_CLASSES as readonly string[]).includes(s)) return true
  return s.includes('/') ? isRange(s) : isHostname(s.startsWith('*.') ? s.slice(2) : s)
}

function isUrl(s: string, schemes: string[], credentials = false): boolean {
  if (!URL.canParse(s)) return false
  const u = new URL(s)
  return (
    schemes.includes(u.protocol) &&
    u.hostname !== '' &&
    (credentials || (u.username === '' && u.password === ''))
  )
}

/** The gateway's string formats, registered with Ajv; their error messages are in schema.ts (FORMAT_RULES). */
export const formats: Record<string, (s: string) => boolean> = {
  duration: (s) => parseDuration(s) !== null,
  size: (s) => parseSize(s) !== null,
  listen: (s) => parseListen(s) !== null,
  'http-url': (s) => isUrl(s, ['http:', 'https:']) && /^[a-z]+:\/\/[^/?#]+\/?$/i.test(s),
  url: (s) => isUrl(s, ['http:', 'https:']),
  'proxy-url': (s) => isUrl(s, ['http:']) && /^http:\/\/[^/?#@]+\/?$/i.test(s),
  // Redis AUTH (`redis://:password@host`, `redis://user:password@host`), typically from ${…} references.
  'redis-url': (s) => isUrl(s, ['redis:', 'rediss:'], true),
  'path-prefix': (s) => s.startsWith('/') && !/[\s?#]/.test(s),
  hostname: isHostname,
  'host-pattern': (s) => {
    const { value, ports } = splitPortSuffix(s)
    return (ports === null || isPortRange(ports)) && isHostPattern(value)
  },
  'client-pattern': (s) =>
    (ADDRESS_CLASSES as readonly string[]).includes(s) || isIP(s.replace(/^\[|\]$/g, '')) !== 0 || isRange(s),
  'port-range': isPortRange,
  'ip-range': (s) => isIP(s) !== 0 || isRange(s),
  'hash-on': (s) => /^(?:header:[A-Za-z0-9!#$%&'*+.^_`|~-]+|cookie:[^\s;=]+|ip|path)$/.test(s),
  'password-hash': (s) => SCRYPT.test(s) || BCRYPT.test(s),
  workers: (s) => s === 'auto',
  // What Node accepts in a header value (its checkInvalidHeaderChar): no CR, LF, NUL, nothing past Latin-1.
  'header-value': (s) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s),
  'rotate-every': (s) => s === 'hourly' || s === 'daily' || parseDuration(s) !== null,
  'route-host': (s) => {
    const name = s.startsWith('*.') ? s.slice(2) : s
    return isHostname(name) && !name.endsWith('.') && (s === name || isIP(name.replace(/^\[|\]$/g, '')) === 0)
  },
}
