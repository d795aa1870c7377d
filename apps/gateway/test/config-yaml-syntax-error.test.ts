import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfigFile } from '../src/config/parse.js'
import { writeConfig } from './helpers/cli.js'

async function problems(file: string): Promise<string[]> {
  try {
    await loadConfigFile(file)
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    return err.problems
  }
  assert.fail('the file was accepted')
}

// Issue 26 item 9: one YAML mistake came out as three lines, each ending in a dangling colon (the
// parser's "at line L, column C:" with the source excerpt cut off). One line per place, saying where.
test('a YAML syntax error is one line with its line, column and message', async (t) => {
  const file = await writeConfig(t, 'reverse:\n  listen: 127.0.0.1:0\n  routes: [ {prefix: /\n admin: x\n')
  const found = await problems(file)
  assert.equal(found.length, 1, found.join('\n'))
  assert.match(found[0]!, /^line 4, column 2: not valid YAML: \S.*[^:]$/)
  assert.ok(!found[0]!.includes('\n'))
})

test('mistakes at different places are each reported once, in order', async (t) => {
  const file = await writeConfig(t, 'log: {}\nlog: {}\nworkers: [1\n')
  const found = await problems(file)
  assert.equal(found.length, 2, found.join('\n'))
  assert.match(found[0]!, /^line 2, column 1: not valid YAML: Map keys must be unique$/)
  assert.match(found[1]!, /^line 4, column 1: not valid YAML: .*[^:]$/)
})
