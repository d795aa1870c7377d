// Two servers measured side by side in pairs of short runs, the order alternating (A B, B A, A B …, as
// bench/gateway-peers.mjs and bench/gateway.mjs's access-log pairs do): the machine's own speed drifts over
// a minute (other load, frequency, the host), and a ratio taken within a pair, its two runs seconds apart
// and each side first as often as second, is what that drift moves least. One run of a scenario reports
// the median of its pairs' ratios and their range, not one long run per server.
//
//   const s = await alternatingPairs(6, ['gateway', 'nginx'], (who, i) => loadOnce(servers[who]))
//   console.log(pairLine('keep-alive', s))
import { median } from './harness.mjs'

/**
 * Runs `count` pairs of `measure(who, pairIndex)` for the two names in `names`, the first going first in
 * even pairs and second in odd ones. `measure` resolves `{ rps, cpuUs }` (req/s and the server's CPU
 * microseconds per completed request; more fields are kept). `onPair(i, results)` sees each pair as it
 * ends. Resolves `{ names, pairs, ratios, cpuRatios }`: `pairs[i]` maps each name to its result,
 * `ratios[i]` is the first's req/s over the second's, `cpuRatios[i]` the second's CPU per request over the
 * first's (so that both read "how many of the second's requests the first does in the same time").
 */
export async function alternatingPairs(count, names, measure, onPair = () => {}) {
  const [a, b] = names
  const pairs = []
  const ratios = []
  const cpuRatios = []
  for (let i = 0; i < count; i++) {
    const r = {}
    for (const who of i % 2 === 0 ? [a, b] : [b, a]) r[who] = await measure(who, i)
    pairs.push(r)
    if (r[a].rps > 0 && r[b].rps > 0) ratios.push(r[a].rps / r[b].rps)
    if (r[a].cpuUs > 0 && r[b].cpuUs > 0) cpuRatios.push(r[b].cpuUs / r[a].cpuUs)
    onPair(i, r)
  }
  return { names, pairs, ratios, cpuRatios }
}

/** `{ median, min, max }` of a list (NaN each when empty). */
export function spread(list) {
  if (list.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  return { median: median(list), min: Math.min(...list), max: Math.max(...list) }
}

/**
 * Each side's medians over the pairs (req/s and CPU µs per request) and the two ratios' medians and
 * ranges, from what `alternatingPairs` resolved.
 */
export function summarizePairs({ names, pairs, ratios, cpuRatios }) {
  const side = (who) => ({
    rps: spread(pairs.map((p) => p[who].rps)),
    cpuUs: spread(pairs.map((p) => p[who].cpuUs).filter((x) => x > 0)),
  })
  return {
    [names[0]]: side(names[0]),
    [names[1]]: side(names[1]),
    ratio: spread(ratios),
    cpuRatio: spread(cpuRatios),
    pairs: pairs.length,
  }
}
