// Issue 25 item 2: the phases are code (core's PHASES), and docs/architecture.md's phase table says the
// same thing, row for row: a phase added, moved or given another owner in one place and not the other
// fails here. The table's hooks also run in Fastify's lifecycle order, and phaseHook refuses a phase to a
// package the table does not give it to.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { HOOK_ORDER, PHASES, phase, phaseHook } from '../src/index.js'

const doc = readFileSync(new URL('../../../../docs/architecture.md', import.meta.url), 'utf8')

/** The rows of the first table after `## The phases`. */
function documentedPhases(): Array<{ name: string; hook: string; owners: string[]; shortCircuit: string }> {
  const section = doc.slice(doc.indexOf('\n## The phases\n'))
  assert.ok(section.length > 0, 'docs/architecture.md has a "## The phases" section')
  const lines = section.split('\n')
  const start = lines.findIndex((l) => l.startsWith('| phase |'))
  assert.ok(start > 0, 'the section has a table whose first column is "phase"')
  assert.deepEqual(
    lines[start]!.split('|').map((c) => c.trim()),
    ['', 'phase', 'Fastify hook', 'owner', 'short-circuit', ''],
  )
  const rows = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    const [, name, hook, owners, shortCircuit] = line.split('|').map((c) => c.trim())
    rows.push({
      name: name!.replace(/`/g, ''),
      hook: hook!.replace(/`/g, ''),
      owners: owners!.split(',').map((o) => o.trim()),
      shortCircuit: shortCircuit!,
    })
  }
  return rows
}

test("docs/architecture.md's phase table is core's PHASES, row for row", () => {
  const code = PHASES.map((p) => ({
    name: p.name,
    hook: p.hook,
    owners: [...p.owners],
    shortCircuit: p.shortCircuit,
  }))
  assert.deepEqual(documentedPhases(), code)
})

test('the phases run in lifecycle order, and a phase belongs to its owners only', () => {
  const positions = PHASES.map((p) => HOOK_ORDER.indexOf(p.hook))
  assert.ok(!positions.includes(-1))
  assert.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
    'each phase runs no earlier than the one before it',
  )
  assert.equal(phaseHook('access', 'access-control'), 'onRequest')
  assert.equal(phaseHook('lookup', 'cache'), 'preHandler')
  assert.equal(phase('log').hook, 'onResponse')
  assert.throws(() => phaseHook('lookup', 'gateway'), /phase 'lookup' belongs to cache, not gateway/)
})
