// Durations, sizes and listen addresses as written in the config file, parsed once into numbers.

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `"250ms"`, `"5s"`, `"1m"`, `"2h"`, `"1d"`, or a number of milliseconds. null when it is none of those. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : null
  const m = DURATION.exec(value.trim())
  if (m === null) return null
  return Math.round(Number(m[1]) * DURATION_MS[m[2]!]!)
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/
const SIZE_BYTES: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
}

/** `"64MiB"`, `"512KB"`, `"100B"`, or a number of bytes. null when it is none of those. */
export function parseSize(value: string | number): number | null {
  let n = value
  if (typeof n === 'string') {
    const m = SIZE.exec(n.trim())
    if (m === null) return null
    n = Math.round(Number(m[1]) * SIZE_BYTES[m[2] ?? 'B']!)
  }
  // Byte counts stay exact integers: 1e32 is no size.
  return Number.isSafeInteger(n) && n >= 1 ? n : null
}

export interface ListenAddress {
  host: string
  /** 0 asks the OS for a free port. */
  port: number
}

/** `"127.0.0.1:3128"`, `"[::1]:8080"`, `"0.0.0.0:80"`, or a bare port (loopback). null when invalid. */
export function parseListen(value: string | number, defaultHost = '127.0.0.1'): ListenAddress | null {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value <= 65535 ? { host: defaultHost, port: value } : null
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+))?:(\d{1,5})$/.exec(value.trim())
  if (m === null) {
    if (/^\d{1,5}$/.test(value.trim())) return parseListen(Number(value), defaultHost)
    return null
  }
  const port = Number(m[3])
  if (port > 65535) return null
  return { host: m[1] ?? m[2] ?? defaultHost, port }
}

/** The URL a client uses to reach a listener (IPv6 in brackets; a wildcard bind shown as loopback). */
export function listenUrl(host: string, port: number, scheme = 'http'): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`
}
