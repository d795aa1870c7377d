// joinVary's shortcut for one side alone naming one field (a CORS hook's `Origin` on an answer without a
// Vary of its own) gives what the general join gives: the name as it is; and anything else (a list,
// spaces, `*`, both sides, an array) still goes through the general join.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { joinVary } from '../src/answer.js'

test('one name alone comes back as it is; anything else is joined', () => {
  assert.equal(joinVary(undefined, 'Origin'), 'Origin')
  assert.equal(joinVary(null, 'accept-encoding'), 'accept-encoding')
  assert.equal(joinVary('Accept-Encoding', undefined), 'Accept-Encoding')
  assert.equal(joinVary(undefined, '*'), '*')
  assert.equal(joinVary(undefined, ' Origin '), 'Origin', 'trimmed')
  assert.equal(joinVary(undefined, 'Origin, origin'), 'Origin', 'each name once')
  assert.equal(joinVary(undefined, 'Origin,*'), '*')
  assert.equal(joinVary(undefined, ''), '')
  assert.equal(joinVary(undefined, ['Origin', 'Accept']), 'Origin, Accept')
  assert.equal(joinVary('Accept-Encoding', 'Origin'), 'Accept-Encoding, Origin')
  assert.equal(joinVary('origin', 'Origin'), 'origin')
  assert.equal(joinVary(undefined, undefined), '')
})
