/** The `Via` entry this proxy adds (RFC 9110 §7.6.3): `1.1 pseudonym`. */
export function viaEntry(httpVersion: string, pseudonym: string): string {
  const version = httpVersion === '1.0' ? '1.0' : httpVersion === '2.0' ? '2' : '1.1'
  return `${version} ${pseudonym}`
}

/** `existing` with our entry appended. */
export function appendVia(existing: string | string[] | undefined, entry: string): string {
  if (existing === undefined || existing === '') return entry
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${entry}`
}

/**
 * Whether `via` already names `pseudonym` as a receiver: our own request has come back to us. Each entry is
 * `[protocol-name "/"] protocol-version received-by [comment]`; received-by is compared case-insensitively.
 */
export function viaHasLoop(via: string | string[] | undefined, pseudonym: string): boolean {
  if (via === undefined) return false
  const want = pseudonym.toLowerCase()
  const joined = Array.isArray(via) ? via.join(',') : via
  for (const entry of splitOutsideComments(joined)) {
    const parts = entry.trim().split(/[ \t]+/)
    if (parts.length >= 2 && parts[1]!.toLowerCase() === want) return true
  }
  return false
}

// Commas inside a comment "(...)" do not separate entries; comments nest and may hold quoted-pairs
// (`\)`), RFC 9110 §5.6.5.
function splitOutsideComments(value: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 92 /* \ */ && depth > 0) i++
    else if (c === 40 /* ( */) depth++
    else if (c === 41 /* ) */ && depth > 0) depth--
    else if (c === 44 /* , */ && depth === 0) {
      out.push(value.slice(start, i))
      start = i + 1
    }
  }
  out.push(value.slice(start))
  return out
}
