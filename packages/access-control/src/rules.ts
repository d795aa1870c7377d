import { classifyAddress } from '@proxykit/core'
import type ipaddr from 'ipaddr.js'
import { CidrTrie } from './cidr-trie.js'
import { HostIndex } from './host-index.js'
import { invalidOption, type RuleAction, type RuleForm } from './options.js'
import { type CompiledRule, compileRule, type RuleParts } from './rule-compile.js'

/** What a policy knows about a request when it decides. */
export interface RequestFacts {
  form: RuleForm
  /** The client address (IPv4-mapped unwrapped); null when unknown. */
  client: ipaddr.IPv4 | ipaddr.IPv6 | null
  user: string | null
  groups: readonly string[]
  method: string
  /** Normalised destination host (forward) or Host header (origin-form); null when absent. */
  host: string | null
  /** Destination port (forward and CONNECT); null for origin-form. */
  port: number | null
  /**
   * The destination address: known for an address target or at connect time, `'unknown'` for a name
   * not yet resolved, null when there is no destination to speak of (origin-form).
   */
  address: ipaddr.IPv4 | ipaddr.IPv6 | 'unknown' | null
  /** Normalised path (`normalizePath`); null for CONNECT. */
  path: string | null
}

export interface Decision {
  /** null: no rule matched and the policy has no default action. */
  action: RuleAction | 'challenge' | null
  /** Index of the deciding rule; -1 for the default action (or none). */
  rule: number
  /** An earlier allow rule depends on the destination address, unknown yet. */
  pendingAllow: boolean
  /** An earlier deny rule depends on the destination address, unknown yet. */
  pendingDeny: boolean
}

/**
 * Ordered rules compiled into indexes: client and destination CIDRs in binary prefix trees, host patterns
 * in hash maps of names and parent domains. `evaluate` collects the candidate rules from the indexes (plus
 * the few rules no index covers), then checks them in rule order: first full match wins. Marks in typed
 * arrays, stamped per evaluation, stand in for per-request sets (evaluation is synchronous).
 */
export class Policy {
  readonly rules: CompiledRule[]
  readonly defaultAction: RuleAction | null
  /** Some rule looks at the client address (else the caller need not parse it). */
  readonly usesClients: boolean
  /** Some rule looks at the path (else the caller need not normalise it). */
  readonly usesPaths: boolean
  readonly #hosts = new HostIndex()
  readonly #clients = new CidrTrie()
  readonly #destinations = new CidrTrie()
  /** Rules that no index can find: checked on every request. */
  readonly #unindexed: number[] = []
  /** Allow rules found only through the destination trie: checked on every request whose address is unknown. */
  readonly #destinationOnlyAllow: number[] = []
  /**
   * The first deny rule found only through the destination trie. While the address is unknown, deny rules
   * matter only as "an earlier rule may deny": one index answers that (conservatively, so a guard is added
   * and decides precisely), which keeps thousands of destination deny rules off the request path.
   */
  #firstDestinationOnlyDeny = Number.POSITIVE_INFINITY
  readonly #hostMark: Uint32Array
  readonly #clientMark: Uint32Array
  readonly #destinationMark: Uint32Array
  readonly #candidateMark: Uint32Array
  #stamp = 0
  /**
   * The candidate rules of the evaluation in progress: `#count` entries of a preallocated array (a rule is
   * added at most once per evaluation), so evaluating neither grows nor truncates a JS array (truncating
   * one through `length = 0` is a runtime call, and the next push reallocates: both showed per request).
   */
  readonly #candidates: Uint32Array
  #count = 0

  /** How many rules the last evaluation checked one by one (a diagnostic: it should stay small). */
  get lastCandidates(): number {
    return this.#count
  }
  readonly #onHost = (i: number) => {
    this.#hostMark[i] = this.#stamp
    this.#add(i)
  }
  readonly #onClient = (i: number) => {
    this.#clientMark[i] = this.#stamp
    this.#add(i)
  }
  readonly #onDestination = (i: number) => {
    this.#destinationMark[i] = this.#stamp
    this.#add(i)
  }

  #add(i: number): void {
    if (this.#candidateMark[i] !== this.#stamp) {
      this.#candidateMark[i] = this.#stamp
      this.#candidates[this.#count++] = i
    }
  }

  constructor(input: unknown, defaultAction: RuleAction | null, where = 'rules') {
    const raw = input === undefined ? [] : input
    if (!Array.isArray(raw)) throw invalidOption(where, 'must be an array')
    this.defaultAction = defaultAction
    this.rules = raw.map((r, i) => this.#index(compileRule(r, i, `${where}[${i}]`)))
    const n = this.rules.length
    this.#hostMark = new Uint32Array(n)
    this.#clientMark = new Uint32Array(n)
    this.#destinationMark = new Uint32Array(n)
    this.#candidateMark = new Uint32Array(n)
    this.#candidates = new Uint32Array(n)
    this.usesClients = this.rules.some((r) => r.hasClients)
    this.usesPaths = this.rules.some((r) => r.paths !== null)
  }

  #index(parts: RuleParts): CompiledRule {
    const { rule, clients, destinations, hosts } = parts
    const index = rule.index
    for (const cidr of clients ?? []) this.#clients.insert(cidr, index)
    for (const cidr of destinations ?? []) this.#destinations.insert(cidr, index)
    for (const pattern of hosts ?? []) this.#hosts.insert(pattern, index)
    if (hosts === null && clients === null) {
      if (destinations === null) this.#unindexed.push(index)
      else if (rule.action === 'allow') this.#destinationOnlyAllow.push(index)
      else this.#firstDestinationOnlyDeny = Math.min(this.#firstDestinationOnlyDeny, index)
    }
    return rule
  }

  /** The first rule (in order) that matches `facts`, the default action when none does (or null without one). */
  evaluate(facts: RequestFacts, defaultAction: RuleAction | null = this.defaultAction): Decision {
    if (++this.#stamp === 0xffffffff) {
      this.#stamp = 1
      this.#hostMark.fill(0)
      this.#clientMark.fill(0)
      this.#destinationMark.fill(0)
      this.#candidateMark.fill(0)
    }
    const stamp = this.#stamp
    // One array and three callbacks made once per policy: evaluation allocates nothing per request
    // beyond its result (it is synchronous, so sharing them is safe).
    this.#count = 0
    if (facts.host !== null && this.#hosts.size !== 0) this.#hosts.lookup(facts.host, this.#onHost)
    if (facts.client !== null && this.#clients.size !== 0) this.#clients.lookup(facts.client, this.#onClient)
    const address = facts.address
    if (address !== null && address !== 'unknown' && this.#destinations.size !== 0)
      this.#destinations.lookup(address, this.#onDestination)
    if (address === 'unknown') for (const i of this.#destinationOnlyAllow) this.#add(i)
    for (const i of this.#unindexed) this.#add(i)
    const count = this.#count
    const candidates = this.#candidates
    if (count > 1) candidates.subarray(0, count).sort()

    let pendingAllow = false
    const firstDeny = address === 'unknown' ? this.#firstDestinationOnlyDeny : Number.POSITIVE_INFINITY
    let pendingDeny = false
    for (let c = 0; c < count; c++) {
      const i = candidates[c]!
      if (i > firstDeny) pendingDeny = true
      const rule = this.rules[i]!
      const m = this.#match(rule, facts, stamp)
      if (m === NO) continue
      if (m === NEEDS_USER) {
        // Anonymous: only an allow rule makes authenticating worth it.
        if (rule.action === 'allow') return { action: 'challenge', rule: i, pendingAllow, pendingDeny }
        continue
      }
      if (m === UNKNOWN_ADDRESS) {
        if (rule.action === 'allow') pendingAllow = true
        else pendingDeny = true
        continue
      }
      return { action: rule.action, rule: i, pendingAllow, pendingDeny }
    }
    if (firstDeny !== Number.POSITIVE_INFINITY) pendingDeny = true
    return { action: defaultAction, rule: -1, pendingAllow, pendingDeny }
  }

  #match(rule: CompiledRule, f: RequestFacts, stamp: number): number {
    const i = rule.index
    if (rule.forms !== null && !rule.forms.has(f.form)) return NO
    if (rule.methods !== null && !rule.methods.has(f.method)) return NO
    if (rule.hasHosts && this.#hostMark[i] !== stamp) return NO
    if (rule.hasClients && this.#clientMark[i] !== stamp) return NO
    if (rule.ports !== null) {
      const port = f.port
      if (port === null) return NO
      if (!rule.ports.single.has(port) && !rule.ports.ranges.some(([lo, hi]) => port >= lo && port <= hi))
        return NO
    }
    if (rule.paths !== null && (f.path === null || !rule.paths.matches(f.path))) return NO
    let unknownAddress = false
    if (rule.hasDestinations || rule.classes !== null) {
      const address = f.address
      if (address === null) return NO
      if (address === 'unknown') unknownAddress = true
      else {
        if (rule.hasDestinations && this.#destinationMark[i] !== stamp) return NO
        if (rule.classes !== null && !rule.classes.has(classifyAddress(address))) return NO
      }
    }
    if (rule.users !== null || rule.groups !== null) {
      if (f.user === null) return NEEDS_USER
      const userOk = rule.users === null || rule.anyUser || rule.users.has(f.user)
      const groupOk = rule.groups === null || f.groups.some((g) => rule.groups!.has(g))
      if (!userOk || !groupOk) return NO
    }
    return unknownAddress ? UNKNOWN_ADDRESS : MATCH
  }
}

const NO = 0
const MATCH = 1
const NEEDS_USER = 2
const UNKNOWN_ADDRESS = 3
