import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ForwardStatusMemo, forwardStatus } from '../src/status.js'

test('the remembered Cache-Status members are the ones forwardStatus builds', () => {
  const memo = new ForwardStatusMemo('edge', 3)
  const shapes = [
    ['uri-miss', 200, undefined],
    ['uri-miss', 200, 'no-freshness'],
    ['miss', 404, 'private'],
    ['bypass', 201, 'method'],
    ['uri-miss', null, ''],
  ] as const
  for (let round = 0; round < 2; round++)
    for (const [fwd, status, detail] of shapes)
      assert.equal(memo.get(fwd, status, detail), forwardStatus('edge', fwd, status, false, null, detail))
  // Different inputs never share a member.
  assert.notEqual(memo.get('miss', 200), memo.get('miss', 203))
  assert.notEqual(memo.get('miss', 200), memo.get('stale', 200))
})
