import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { GENERATED_VALIDATOR, loadValidator, schemaHash } from '../src/config/validator.js'

// The README's full example (every section), the empty config, and documents broken in many ways at once.
async function documents(): Promise<unknown[]> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const example = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)
  assert.ok(example, 'the README has its example config')
  return [
    parse(example[1]!),
    {},
    { reverse: { routes: [{ prefix: '/', upstreams: ['http://127.0.0.1:9001'] }] } },
    { forward: { connectPorts: [0, 70000], auth: { realm: '', users: {} } }, colour: 1 },
    { reverse: { listen: 'nowhere', routes: [{ upstreams: ['nope'], retries: 11, timeout: 'soon' }] } },
    { cache: { maxSize: 'big', store: 'disk' }, redis: 'http://x', log: { level: 3, fields: ['nope'] } },
    [],
    'reverse: {}',
  ]
}

test('the build wrote the validator from the current schema, and it is the one loaded', async () => {
  assert.match(await readFile(GENERATED_VALIDATOR, 'utf8'), new RegExp(`schemaHash = "${schemaHash()}"`))
  assert.equal(loadValidator().prebuilt, true)
})

test('the generated validator and the schema compiled by Ajv agree: verdicts, errors and defaults filled in', async () => {
  const generated = loadValidator()
  const compiled = loadValidator(join(tmpdir(), 'no-such-validator.cjs'))
  assert.equal(compiled.prebuilt, false)
  for (const doc of await documents()) {
    const [a, b] = [structuredClone(doc), structuredClone(doc)]
    const verdict = generated.validate(a)
    assert.equal(verdict, compiled.validate(b), JSON.stringify(doc))
    assert.deepEqual(a, b, 'the same defaults filled in')
    assert.deepEqual(generated.validate.errors ?? null, compiled.validate.errors ?? null)
  }
})

test('a validator generated from another schema is not used: the schema is compiled instead', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pk-validator-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const stale = join(dir, 'stale.cjs')
  await writeFile(
    stale,
    "module.exports = () => { throw new Error('the stale validator was used') }\nmodule.exports.schemaHash = 'another'\n",
  )
  const { validate, prebuilt } = loadValidator(stale)
  assert.equal(prebuilt, false)
  assert.equal(validate({}), true)
  assert.equal(validate({ colour: 1 }), false)
})
