// HTTP-date parsing (RFC 9110 §5.6.7): the IMF-fixdate fast path agrees with Date.parse on every month and
// the day and time boundaries, the obsolete forms still parse, and malformed dates are not dates.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { httpDate } from '../src/policy.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

test('IMF-fixdate: the same instant as Date.parse for every month, day and time boundary', () => {
  for (const [m, month] of MONTHS.entries()) {
    for (const day of ['01', '09', '10', '28', '29', '30', '31']) {
      for (const time of ['00:00:00', '08:49:37', '23:59:59']) {
        const v = `Sun, ${day} ${month} 2026 ${time} GMT`
        const expected = Date.parse(v)
        assert.equal(httpDate(v), Number.isFinite(expected) ? expected : null, `${v} (month ${m})`)
      }
    }
  }
  assert.equal(httpDate('Sun, 06 Nov 1994 08:49:37 GMT'), Date.UTC(1994, 10, 6, 8, 49, 37))
})

test('obsolete forms (RFC 850, asctime) still parse', () => {
  const instant = Date.UTC(1994, 10, 6, 8, 49, 37)
  assert.equal(httpDate('Sunday, 06-Nov-94 08:49:37 GMT'), instant)
  assert.equal(httpDate('Sun Nov  6 08:49:37 1994'), instant)
})

test('malformed dates are not dates', () => {
  for (const v of ['0', '', 'yesterday', 'Sun, 06 Xyz 1994 08:49:37 GMT', 'Sun, 6 Nov 1994 08:49:37 GMTX'])
    assert.equal(httpDate(v), null, JSON.stringify(v))
  assert.equal(httpDate(undefined), null)
})
