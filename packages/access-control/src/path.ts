// Path normalisation for path rules. Every spelling an origin might take for the same resource must
// normalise to one string, or a rule on `/admin` is bypassed by `/%61dmin`. The rules, in order:
//  1. the query is dropped;
//  2. percent-encoded unreserved characters (RFC 3986 §2.3: ALPHA DIGIT - . _ ~) are decoded, and so
//     are `%2F` and `%5C`, because many origins decode them into path separators;
//  3. `\` is a separator (IIS and some frameworks treat it as `/`);
//  4. each segment's `;parameters` are removed (Tomcat and others ignore them: `/admin;x` is `/admin`);
//  5. empty segments are removed (`//admin` is `/admin`) and dot-segments are resolved (RFC 3986 §5.2.4),
//     never above the root;
//  6. ASCII letters are folded to lower case, so path rules are case-insensitive (`/ADMIN` is `/admin`);
//     other percent-encodings stay encoded (with lower-case hex).
// The result always starts with `/` and has no trailing `/` (except the root itself).

const HEX = /%([0-9A-Fa-f]{2})/g

function decodeOne(_match: string, hex: string): string {
  const code = Number.parseInt(hex, 16)
  // unreserved: A-Z a-z 0-9 - . _ ~ ; and the separators / and \
  if (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e ||
    code === 0x2f ||
    code === 0x5c
  )
    return String.fromCharCode(code)
  return `%${hex}`
}

/** Percent-encodes what is not printable ASCII (a rule written as `/café`), leaving `%XX` as it is. */
function encodeNonAscii(path: string): string {
  let out = ''
  for (const ch of path) {
    const c = ch.codePointAt(0)!
    if (c > 0x20 && c < 0x7f) out += ch
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).padStart(2, '0')}`
  }
  return out
}

/** The normalised form of a request path (or path and query) for matching; see the rules above. */
export function normalizePath(input: string): string {
  let path = input
  const q = path.indexOf('?')
  if (q !== -1) path = path.slice(0, q)
  const hash = path.indexOf('#')
  if (hash !== -1) path = path.slice(0, hash)
  path = encodeNonAscii(path)
  if (path.includes('%')) path = path.replace(HEX, decodeOne)
  const raw = path.replace(/\\/g, '/').split('/')
  const out: string[] = []
  for (let segment of raw) {
    const semi = segment.indexOf(';')
    if (semi !== -1) segment = segment.slice(0, semi)
    if (segment === '' || segment === '.') continue
    if (segment === '..') {
      out.pop()
      continue
    }
    out.push(segment.toLowerCase())
  }
  return `/${out.join('/')}`
}

/**
 * Matches normalised paths against a set of prefixes on segment boundaries: `/admin` matches `/admin`
 * and `/admin/x`, never `/administrator`. `/` matches every path. Cost: one hash lookup per segment.
 */
export class PathPrefixes {
  readonly #prefixes = new Set<string>()
  #all = false

  add(prefix: string): void {
    const p = normalizePath(prefix)
    if (p === '/') this.#all = true
    else this.#prefixes.add(p)
  }

  get size(): number {
    return this.#prefixes.size + (this.#all ? 1 : 0)
  }

  /** `path` must already be normalised. */
  matches(path: string): boolean {
    if (this.#all) return true
    let i = path.indexOf('/', 1)
    while (i !== -1) {
      if (this.#prefixes.has(path.slice(0, i))) return true
      i = path.indexOf('/', i + 1)
    }
    return this.#prefixes.has(path)
  }
}
