import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizeHost, parseIp } from '@proxykit/core'
import { type AccessRule, normalizePath, Policy, type RequestFacts } from '../src/index.js'

function facts(over: Partial<RequestFacts> & { hostname?: string; clientIp?: string }): RequestFacts {
  const { hostname, clientIp, ...rest } = over
  const host = hostname === undefined ? null : normalizeHost(hostname)
  return {
    form: 'absolute',
    client: parseIp(clientIp ?? '192.0.2.10'),
    user: null,
    groups: [],
    method: 'GET',
    host: host?.hostname ?? null,
    port: 80,
    address: host === null ? null : host.family === 0 ? 'unknown' : parseIp(host.hostname),
    path: '/',
    ...rest,
  }
}

const label = (p: Policy, f: RequestFacts) => {
  const d = p.evaluate(f)
  return `${d.action}:${d.rule === -1 ? 'default' : p.rules[d.rule]!.label}`
}

test('first match wins, in rule order, whichever index finds the rules', () => {
  const rules: AccessRule[] = [
    { name: 'office-deny-evil', action: 'deny', clients: ['10.1.0.0/16'], hosts: ['.evil.example'] },
    { name: 'allow-evil-for-admins', action: 'allow', hosts: ['.evil.example'], clients: ['10.0.0.0/8'] },
    { name: 'deny-method', action: 'deny', methods: ['DELETE'] },
    { name: 'allow-office', action: 'allow', clients: ['10.0.0.0/8'] },
  ]
  const p = new Policy(rules, 'deny')
  assert.equal(label(p, facts({ hostname: 'x.evil.example', clientIp: '10.1.2.3' })), 'deny:office-deny-evil')
  assert.equal(
    label(p, facts({ hostname: 'x.evil.example', clientIp: '10.2.2.3' })),
    'allow:allow-evil-for-admins',
  )
  assert.equal(
    label(p, facts({ hostname: 'ok.example', clientIp: '10.2.2.3', method: 'DELETE' })),
    'deny:deny-method',
  )
  assert.equal(label(p, facts({ hostname: 'ok.example', clientIp: '::ffff:10.2.2.3' })), 'allow:allow-office')
  assert.equal(label(p, facts({ hostname: 'ok.example', clientIp: '192.0.2.1' })), 'deny:default')
})

test('ports, forms, methods, paths and address classes', () => {
  const p = new Policy(
    [
      { name: 'no-metadata', action: 'deny', addressClasses: ['metadata', 'loopback'] },
      { name: 'tls-only', action: 'allow', forms: ['authority'], ports: [443, '8443-8444'] },
      { name: 'no-admin', action: 'deny', paths: ['/admin'] },
      { name: 'web', action: 'allow', forms: ['absolute', 'origin'], methods: ['get', 'HEAD'] },
    ],
    'deny',
  )
  const connect = (hostname: string, port: number) =>
    label(p, facts({ form: 'authority', method: 'CONNECT', hostname, port, path: null }))
  assert.equal(connect('example.com', 443), 'allow:tls-only')
  assert.equal(connect('example.com', 8444), 'allow:tls-only')
  assert.equal(connect('example.com', 22), 'deny:default')
  assert.equal(connect('169.254.169.254', 443), 'deny:no-metadata')
  assert.equal(connect('0x7f000001', 443), 'deny:no-metadata')
  assert.equal(label(p, facts({ hostname: 'a.example', path: normalizePath('/%41dmin/x') })), 'deny:no-admin')
  assert.equal(label(p, facts({ hostname: 'a.example', path: '/x' })), 'allow:web')
  assert.equal(label(p, facts({ hostname: 'a.example', method: 'POST' })), 'deny:default')
  // origin-form has no destination: address and port conditions never match it
  assert.equal(
    label(p, facts({ form: 'origin', address: null, port: null, hostname: 'localhost' })),
    'allow:web',
  )
})

test('a name target leaves address rules pending: the connect-time check decides', () => {
  const p = new Policy(
    [
      { name: 'no-private', action: 'deny', addressClasses: ['loopback', 'private'] },
      { name: 'allow-example', action: 'allow', hosts: ['.example.com'] },
    ],
    'deny',
  )
  const named = facts({ hostname: 'www.example.com' })
  const d = p.evaluate(named)
  assert.equal(d.action, 'allow')
  assert.equal(d.pendingDeny, true)
  assert.equal(p.evaluate({ ...named, address: parseIp('127.0.0.1') }).action, 'deny')
  assert.equal(p.evaluate({ ...named, address: parseIp('93.184.215.14') }).action, 'allow')
  // destination CIDR rules: found through the trie once the address is known
  const q = new Policy([{ name: 'allow-net', action: 'allow', destinations: ['127.0.0.0/30'] }], 'deny')
  const n2 = facts({ hostname: 'localhost' })
  assert.equal(q.evaluate(n2).pendingAllow, true)
  assert.equal(q.evaluate({ ...n2, address: parseIp('127.0.0.2') }).action, 'allow')
  assert.equal(q.evaluate({ ...n2, address: parseIp('127.0.0.5') }).action, 'deny')
})

test('user and group rules ask for credentials only when they could allow', () => {
  const p = new Policy(
    [
      { name: 'no-mallory', action: 'deny', users: ['mallory'] },
      { name: 'staff', action: 'allow', groups: ['staff'] },
      { name: 'anyone-logged-in', action: 'allow', users: ['*'], hosts: ['intranet.example'] },
    ],
    'deny',
  )
  assert.equal(label(p, facts({ hostname: 'x.example' })), 'challenge:staff')
  assert.equal(
    label(p, facts({ hostname: 'x.example', user: 'mallory', groups: ['staff'] })),
    'deny:no-mallory',
  )
  assert.equal(label(p, facts({ hostname: 'x.example', user: 'ann', groups: ['staff'] })), 'allow:staff')
  assert.equal(label(p, facts({ hostname: 'x.example', user: 'bob' })), 'deny:default')
  assert.equal(label(p, facts({ hostname: 'intranet.example', user: 'bob' })), 'allow:anyone-logged-in')
})

test('bad configuration fails at once, naming the rule index, name and field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [
      [{ action: 'allow', clients: ['10.0.0.300/8'] }],
      /rules\[0\]\.clients\[0\]: "10\.0\.0\.300\/8" is not an IP/,
    ],
    [
      [{ action: 'allow' }, { name: 'x', action: 'allow', addressClasses: ['lan'] }],
      /rules\[1\] \("x"\)\.addressClasses\[0\]: unknown class "lan"/,
    ],
    [[{ action: 'allow', hosts: ['ex*ample.com'] }], /rules\[0\]\.hosts\[0\]/],
    [[{ action: 'permit' }], /rules\[0\]\.action: must be "allow" or "deny"/],
    [[{ action: 'allow', ports: ['90-80'] }], /rules\[0\]\.ports\[0\]/],
    [[{ action: 'allow', ports: [70000] }], /rules\[0\]\.ports\[0\]/],
    [[{ action: 'allow', paths: ['admin'] }], /rules\[0\]\.paths\[0\]: "admin" must start with "\/"/],
    [[{ action: 'allow', destination: ['10.0.0.0/8'] }], /rules\[0\]: unknown field "destination"/],
    [[{ action: 'allow', forms: ['reverse'] }], /rules\[0\]\.forms\[0\]/],
    [[{ action: 'allow', hosts: [] }], /rules\[0\]\.hosts: must not be empty/],
    [
      [{ action: 'deny', rateLimit: { max: 1, timeWindow: 1000 } }],
      /rules\[0\]\.rateLimit: only allow rules/,
    ],
    [[{ action: 'allow', rateLimit: { max: -1, timeWindow: 1000 } }], /rules\[0\]\.rateLimit\.max/],
    [{}, /rules: must be an array/],
  ]
  for (const [rules, message] of cases) {
    assert.throws(() => new Policy(rules, 'deny'), message, JSON.stringify(rules))
  }
})

test('ten thousand rules: answers stay right and only matching candidates are checked', () => {
  const rules: AccessRule[] = []
  for (let i = 0; i < 5000; i++) rules.push({ action: 'deny', hosts: [`.blocked${i}.example`] })
  for (let i = 0; i < 5000; i++) rules.push({ action: 'deny', clients: [`10.${i >> 8}.${i & 255}.0/24`] })
  rules.push({ name: 'rest', action: 'allow' })
  const p = new Policy(rules, 'deny')
  assert.equal(p.evaluate(facts({ hostname: 'a.blocked4999.example' })).rule, 4999)
  assert.equal(
    p.evaluate(facts({ hostname: 'ok.example', clientIp: '10.19.136.7' })).rule,
    5000 + 19 * 256 + 136,
  )
  assert.equal(label(p, facts({ hostname: 'ok.example', clientIp: '192.0.2.1' })), 'allow:rest')
  // The indexes hand over only the rules that can match: here the catch-all alone, not 10,001.
  p.evaluate(facts({ hostname: 'www.ok.example', clientIp: '192.0.2.1' }))
  assert.equal(p.lastCandidates, 1)
  p.evaluate(facts({ hostname: 'a.blocked7.example', clientIp: '10.0.7.1' }))
  assert.equal(p.lastCandidates, 3)
})

test('thousands of destination deny rules stay off the path of name targets, yet still force the connect check', () => {
  const rules: AccessRule[] = []
  for (let i = 0; i < 3000; i++)
    rules.push({ action: 'deny', destinations: [`172.16.${i >> 8}.${i & 255}/32`] })
  rules.push({ name: 'bob-lab', action: 'allow', users: ['bob'], destinations: ['10.0.0.0/8'] })
  rules.push({ name: 'web', action: 'allow', hosts: ['.example.com'] })
  const p = new Policy(rules, 'deny')
  const named = facts({ hostname: 'www.example.com', user: 'alice' })
  const d = p.evaluate(named)
  assert.equal(label(p, named), 'allow:web')
  assert.equal(d.pendingDeny, true)
  assert.equal(p.evaluate({ ...named, address: parseIp('172.16.11.7') }).rule, 11 * 256 + 7)
  // an allow rule whose other conditions fail (not bob) does not make the request tentatively allowed
  const other = facts({ hostname: 'intranet.test', user: 'alice' })
  const e = p.evaluate(other)
  assert.equal(e.action, 'deny')
  assert.equal(e.pendingAllow, false)
  const bob = p.evaluate({ ...other, user: 'bob' })
  assert.equal(bob.action, 'deny')
  assert.equal(bob.pendingAllow, true)
  assert.equal(p.evaluate({ ...other, user: 'bob', address: parseIp('10.1.2.3') }).rule, 3000)
})
