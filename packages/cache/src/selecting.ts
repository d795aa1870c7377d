/**
 * Selecting header values as the cache compares them (RFC 9111 §4.1): two requests select the same
 * stored variant when their values are identical after normalisations that do not change what they mean.
 * Only the content-negotiation fields that RFC 9110 §12.5 defines as lists are normalised; every other
 * field (User-Agent, Origin, Cookie, a custom one …) is compared as sent, field lines joined and trimmed,
 * because nothing says what else about them is insignificant.
 *
 * For Accept, Accept-Charset, Accept-Encoding and Accept-Language: field lines are one list (§5.3), empty
 * list members are dropped and whitespace around `,` and `;` goes (§5.6.1, §5.6.6: OWS there means
 * nothing); the case of what is case-insensitive goes (media types, parameter names, codings, charsets,
 * language tags); a weight is written in one form (`q=0.50` is `q=0.5`, §12.4.2). Accept-Encoding alone
 * is also put in order, and its `q=1` dropped: its members carry their preference in their weights only
 * (§12.5.3). Accept and Accept-Language keep their order: RFC 9110 §12.5.4 notes that recipients read
 * the order of equal weights as a preference, and content negotiators (Node's `negotiator`, behind
 * Express and Fastify's `accepts`) break ties between equal weights by it for Accept too.
 */

// Quoted strings may hold a comma or a semicolon (Accept parameters): split outside them only.
function split(value: string, separator: number): string[] {
  const out: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (quoted) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) quoted = false
    } else if (c === 34) quoted = true
    else if (c === separator) {
      out.push(value.slice(start, i))
      start = i + 1
    }
  }
  out.push(value.slice(start))
  return out
}

const OWS = /^[\t ]+|[\t ]+$/g
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/

/** One list member: its parts around `;` trimmed, names lower-cased (all of it with `lowerAll`). */
function member(raw: string, lowerAll: boolean, dropQ1: boolean): string {
  const parts = split(raw, 59 /* ; */)
  const out: string[] = []
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i]!.replace(OWS, '')
    if (i === 0 || lowerAll) {
      if (!part.includes('"')) part = part.toLowerCase()
    } else {
      const eq = part.indexOf('=')
      part = eq === -1 ? part.toLowerCase() : part.slice(0, eq).toLowerCase() + part.slice(eq)
    }
    if (i > 0 && part.startsWith('q=') && QVALUE.test(part.slice(2))) {
      const q = Number(part.slice(2))
      if (dropQ1 && q === 1) continue
      part = `q=${q}`
    }
    out.push(part)
  }
  return out.join(';')
}

type Rule = { lowerAll: boolean; sort: boolean }
const RULES: Record<string, Rule> = {
  accept: { lowerAll: false, sort: false },
  'accept-charset': { lowerAll: true, sort: false },
  'accept-encoding': { lowerAll: true, sort: true },
  'accept-language': { lowerAll: true, sort: false },
}

function normalise(value: string, rule: Rule): string {
  const out: string[] = []
  for (const raw of split(value, 44 /* , */)) {
    if (raw.replace(OWS, '') === '') continue
    out.push(member(raw, rule.lowerAll, rule.sort))
  }
  if (rule.sort) out.sort()
  return out.join(',')
}

// The same few values arrive again and again (every browser sends one Accept-Encoding): one memo per
// field, holding the last value seen.
const memo: Record<string, { raw: string; normalised: string }> = {}

/** The selecting value of `name` (lower-case) for the request header value `v`, or null when absent. */
export function selecting(name: string, v: string | string[] | undefined): string | null {
  if (v === undefined) return null
  const joined = Array.isArray(v) ? v.join(', ') : String(v)
  const rule = RULES[name]
  if (rule === undefined) return joined.trim()
  const last = memo[name]
  if (last !== undefined && last.raw === joined) return last.normalised
  const normalised = normalise(joined, rule)
  memo[name] = { raw: joined, normalised }
  return normalised
}
