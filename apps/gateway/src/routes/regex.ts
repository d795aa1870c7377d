import ret, { type Token, type Tokens, types } from 'ret'

// ret is CommonJS: its tokenizer is the module itself, whatever its types say about `default`.
const parse = ret as unknown as (source: string) => Tokens

// Regexes from the config run against every request path on V8's backtracking engine, so the ones that
// can take exponential time are refused when the config is read. The check is safe-regex2's (a
// repetition inside a repetition, at most 25 repetitions), on the same parser (ret), except that an
// optional part (`?`, `{0,1}`) is no repetition: `^/legacy(/.*)?$` is linear and common. What it cannot
// see (overlapping alternatives under a star, `(a|a)*`; polynomial cases such as `.*.*.*x`) is bounded by
// the input: a path, at most `reverse.maxHeaderSize` long.

const MAX_REPETITIONS = 25

function walk(node: Tokens, height: number, count: { n: number }): boolean {
  let h = height
  if (node.type === types.REPETITION) {
    if (node.max > 1) {
      h++
      count.n++
      if (h > 1 || count.n > MAX_REPETITIONS) return false
    }
    return walk(node.value, h, count)
  }
  if (node.type !== types.ROOT && node.type !== types.GROUP) return true
  for (const option of node.options ?? []) for (const t of option) if (!walk(t, h, count)) return false
  for (const t of node.stack ?? []) if (!walk(t as Token, h, count)) return false
  return true
}

/** Null when `source` is safe to run on request paths, else why not. */
export function regexRisk(source: string): string | null {
  let tree: Tokens
  try {
    tree = parse(source)
  } catch {
    return 'uses syntax the safety check cannot read (lookbehind, or a Unicode property): write it without'
  }
  return walk(tree, 0, { n: 0 })
    ? null
    : `may backtrack catastrophically (a repeated part inside a repeated part, as in (a+)+, or more than ${MAX_REPETITIONS} repetitions): write it without the nesting`
}
