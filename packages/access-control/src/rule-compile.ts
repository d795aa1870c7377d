// One access rule checked and compiled: every field's message names the rule and the field; the
// Policy in rules.ts puts the compiled rules into its indexes.
import { ADDRESS_CLASSES, type AddressClass } from '@proxykit/core'
import { type Cidr, parseCidr } from './cidr-trie.js'
import { type HostPattern, parseHostPattern } from './host-index.js'
import {
  type AccessRule,
  checkAction,
  checkRateLimit,
  invalidOption,
  isObject,
  type RateLimitRule,
  type RuleAction,
  type RuleForm,
} from './options.js'
import { PathPrefixes } from './path.js'

export interface CompiledRule {
  index: number
  label: string
  action: RuleAction
  rateLimit: RateLimitRule | null
  forms: Set<RuleForm> | null
  methods: Set<string> | null
  ports: { single: Set<number>; ranges: Array<[number, number]> } | null
  hasClients: boolean
  hasHosts: boolean
  hasDestinations: boolean
  classes: Set<AddressClass> | null
  paths: PathPrefixes | null
  users: Set<string> | null
  anyUser: boolean
  groups: Set<string> | null
}

/** A compiled rule and what the policy's indexes take from it (null: the rule does not say). */
export interface RuleParts {
  rule: CompiledRule
  clients: Cidr[] | null
  destinations: Cidr[] | null
  hosts: HostPattern[] | null
}

const RULE_KEYS = new Set([
  'name',
  'action',
  'clients',
  'users',
  'groups',
  'methods',
  'forms',
  'hosts',
  'ports',
  'destinations',
  'addressClasses',
  'paths',
  'rateLimit',
])
const FORMS = new Set<RuleForm>(['absolute', 'authority', 'origin'])
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function list(value: unknown, where: string): unknown[] | null {
  if (value === undefined) return null
  if (!Array.isArray(value)) throw invalidOption(where, 'must be an array')
  if (value.length === 0) throw invalidOption(where, 'must not be empty (leave it out to match anything)')
  return value
}

function strings(value: unknown, where: string): string[] | null {
  const l = list(value, where)
  if (l === null) return null
  l.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim() === '')
      throw invalidOption(`${where}[${i}]`, 'must be a non-empty string')
  })
  return l as string[]
}

function parsePorts(value: unknown, where: string): CompiledRule['ports'] {
  const l = list(value, where)
  if (l === null) return null
  const single = new Set<number>()
  const ranges: Array<[number, number]> = []
  const port = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535
  l.forEach((v, i) => {
    const w = `${where}[${i}]`
    if (typeof v === 'number') {
      if (!port(v)) throw invalidOption(w, `${v} is not a port (1-65535)`)
      single.add(v)
      return
    }
    const m = typeof v === 'string' ? /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(v) : null
    if (m === null) throw invalidOption(w, `${JSON.stringify(v)} is not a port or "low-high" range`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (!port(lo) || !port(hi) || lo > hi) throw invalidOption(w, `"${v}" is not a valid port range`)
    if (lo === hi) single.add(lo)
    else ranges.push([lo, hi])
  })
  return { single, ranges }
}

export function compileRule(rule: unknown, index: number, where: string): RuleParts {
  if (!isObject(rule)) throw invalidOption(where, 'must be an object')
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.has(key)) throw invalidOption(where, `unknown field "${key}"`)
  }
  const r = rule as unknown as AccessRule
  if (r.name !== undefined && (typeof r.name !== 'string' || r.name === ''))
    throw invalidOption(`${where}.name`, 'must be a non-empty string')
  const label = r.name ?? `#${index}`
  const at = r.name === undefined ? where : `${where} ("${r.name}")`
  const action = checkAction(r.action, `${at}.action`)
  const rateLimit = r.rateLimit === undefined ? null : checkRateLimit(r.rateLimit, `${at}.rateLimit`)
  if (rateLimit !== null && action !== 'allow')
    throw invalidOption(`${at}.rateLimit`, 'only allow rules can have a rate limit')

  const forms = strings(r.forms, `${at}.forms`)
  forms?.forEach((f, i) => {
    if (!FORMS.has(f as RuleForm))
      throw invalidOption(`${at}.forms[${i}]`, `"${f}" is not one of absolute, authority, origin`)
  })
  const methods = strings(r.methods, `${at}.methods`)
  methods?.forEach((m, i) => {
    if (!METHOD.test(m)) throw invalidOption(`${at}.methods[${i}]`, `"${m}" is not a method`)
  })
  const classes = strings(r.addressClasses, `${at}.addressClasses`)
  classes?.forEach((c, i) => {
    if (!ADDRESS_CLASSES.includes(c as AddressClass))
      throw invalidOption(
        `${at}.addressClasses[${i}]`,
        `unknown class "${c}" (one of ${ADDRESS_CLASSES.join(', ')})`,
      )
  })
  const clients = strings(r.clients, `${at}.clients`)
  const clientCidrs = clients?.map((c, i) => {
    const cidr = parseCidr(c)
    if (cidr === null) throw invalidOption(`${at}.clients[${i}]`, `"${c}" is not an IP address or CIDR`)
    return cidr
  })
  const destinations = strings(r.destinations, `${at}.destinations`)
  const destinationCidrs = destinations?.map((c, i) => {
    const cidr = parseCidr(c)
    if (cidr === null) throw invalidOption(`${at}.destinations[${i}]`, `"${c}" is not an IP address or CIDR`)
    return cidr
  })
  const hosts = strings(r.hosts, `${at}.hosts`)
  const hostPatterns = hosts?.map((h, i) => {
    const pattern = parseHostPattern(h)
    if (typeof pattern === 'string') throw invalidOption(`${at}.hosts[${i}]`, pattern)
    return pattern
  })
  const pathList = strings(r.paths, `${at}.paths`)
  let paths: PathPrefixes | null = null
  if (pathList !== null) {
    paths = new PathPrefixes()
    for (const [i, p] of pathList.entries()) {
      if (!p.startsWith('/')) throw invalidOption(`${at}.paths[${i}]`, `"${p}" must start with "/"`)
      paths.add(p)
    }
  }
  const users = strings(r.users, `${at}.users`)
  const groups = strings(r.groups, `${at}.groups`)

  const compiled: CompiledRule = {
    index,
    label,
    action,
    rateLimit,
    forms: forms === null ? null : new Set(forms as RuleForm[]),
    methods: methods === null ? null : new Set(methods.map((m) => m.toUpperCase())),
    ports: parsePorts(r.ports, `${at}.ports`),
    hasClients: clients !== null,
    hasHosts: hosts !== null,
    hasDestinations: destinations !== null,
    classes: classes === null ? null : new Set(classes as AddressClass[]),
    paths,
    users: users === null ? null : new Set(users.filter((u) => u !== '*')),
    anyUser: users?.includes('*') ?? false,
    groups: groups === null ? null : new Set(groups),
  }
  return {
    rule: compiled,
    clients: clientCidrs ?? null,
    destinations: destinationCidrs ?? null,
    hosts: hostPatterns ?? null,
  }
}
