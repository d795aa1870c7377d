// Issue 26.8: `forward.allow: ["300.1.1.1"]` was taken for a host name. A name whose last label is a number
// is an address or nothing (a URL parser reads `010.0.0.1` as octal 8.0.0.1), so the config refuses any such
// entry that is not an address in its usual spelling, naming the path.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, resolveConfig } from '../src/config/parse.js'

function problems(document: unknown): string[] {
  try {
    resolveConfig(document)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.problems
  }
  assert.fail(`expected ${JSON.stringify(document)} to be refused`)
}

const forward = (f: Record<string, unknown>) => ({ forward: { listen: '127.0.0.1:0', ...f } })

for (const [key, entry] of [
  ['allow', '300.1.1.1'],
  ['allow', '010.0.0.1'],
  ['allow', '2130706434'],
  ['deny', '127.1'],
  ['deny', '*.300'],
  ['allow', '0x7f.0.0.1'],
  ['allow', '10.0.0.0/33'],
  ['deny', '300.0.0.0/8'],
] as const) {
  test(`forward.${key}: ["${entry}"] is refused at config load, naming the path`, () => {
    const found = problems(forward({ [key]: ['example.com', entry] }))
    assert.deepEqual(
      found.filter((p) => p.startsWith(`forward.${key}[1]: must be a host name`)).length,
      1,
      found.join('\n'),
    )
    assert.ok(!found.some((p) => p.startsWith(`forward.${key}[0]`)), 'the host name is fine')
  })
}

test('a reverse route host that ends in a number must be an address', () => {
  const route = (host: string) => ({
    reverse: { listen: '127.0.0.1:0', routes: [{ prefix: '/', host, upstreams: ['http://127.0.0.1:1'] }] },
  })
  assert.match(problems(route('300.1.1.1')).join('\n'), /reverse\.routes\[0\]\.host: must be a host name/)
  assert.doesNotThrow(() => resolveConfig(route('10.0.0.1')))
})

test('addresses, CIDRs and names in their usual spellings load', () => {
  const config = resolveConfig(
    forward({
      allow: [
        '10.0.0.1',
        '[::1]',
        '::1',
        '10.0.0.0/8',
        'fd00::/8',
        'a1.example',
        '*.example.com',
        'loopback',
      ],
    }),
  )
  assert.equal(config.forward?.allow?.length, 8)
})
