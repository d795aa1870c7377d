// HTTP-date parsing (RFC 9110 §5.6.7): exactly the three forms of the ABNF (IMF-fixdate, RFC 850,
// asctime), with the day of the month, the month and the time checked, and a two-digit RFC 850 year read
// by the 50-year rule. Everything else is not a date (RFC 9111 §5.3: an invalid Expires is expired).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { httpDate } from '../src/http-date.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const LAST_DAY = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

test('IMF-fixdate: every month, day and time boundary; days past the end of the month are not dates', () => {
  for (const [m, month] of MONTHS.entries()) {
    for (const day of [1, 9, 10, 28, 29, 30, 31]) {
      for (const [h, mi, s] of [
        [0, 0, 0],
        [8, 49, 37],
        [23, 59, 59],
      ] as const) {
        const pad = (n: number) => String(n).padStart(2, '0')
        const v = `Sun, ${pad(day)} ${month} 2026 ${pad(h)}:${pad(mi)}:${pad(s)} GMT`
        const expected = day <= LAST_DAY[m]! ? Date.UTC(2026, m, day, h, mi, s) : null
        assert.equal(httpDate(v), expected, v)
      }
    }
  }
  assert.equal(httpDate('Sun, 06 Nov 1994 08:49:37 GMT'), Date.UTC(1994, 10, 6, 8, 49, 37))
  assert.equal(httpDate('Thu, 29 Feb 2024 00:00:00 GMT'), Date.UTC(2024, 1, 29), 'a leap day')
  assert.equal(httpDate('Sat, 29 Feb 2025 00:00:00 GMT'), null, 'no leap day in 2025')
  assert.equal(httpDate('Mon, 01 Jan 0001 00:00:00 GMT'), Date.parse('0001-01-01T00:00:00Z'), 'not 1901')
})

test('obsolete forms (RFC 850, asctime) still parse', () => {
  const instant = Date.UTC(1994, 10, 6, 8, 49, 37)
  assert.equal(httpDate('Sunday, 06-Nov-94 08:49:37 GMT'), instant)
  assert.equal(httpDate('Sun Nov  6 08:49:37 1994'), instant)
  assert.equal(httpDate('Sun Nov 06 08:49:37 1994'), instant, 'asctime day as 2DIGIT')
  assert.equal(httpDate('Sun Nov 16 08:49:37 1994'), Date.UTC(1994, 10, 16, 8, 49, 37))
})

test('a two-digit RFC 850 year more than 50 years ahead is the previous century (§5.6.7)', () => {
  const now = Date.UTC(2026, 11, 7)
  assert.equal(httpDate('Sunday, 06-Nov-94 08:49:37 GMT', now), Date.UTC(1994, 10, 6, 8, 49, 37))
  assert.equal(httpDate('Thursday, 01-Jan-30 00:00:00 GMT', now), Date.UTC(2030, 0, 1), 'not 1930')
  assert.equal(httpDate('Saturday, 01-Jan-76 00:00:00 GMT', now), Date.UTC(2076, 0, 1), '50 years ahead')
  assert.equal(httpDate('Friday, 01-Jan-77 00:00:00 GMT', now), Date.UTC(1977, 0, 1), '51 years ahead')
  const later = Date.UTC(2090, 0, 1)
  assert.equal(httpDate('Monday, 01-Jan-05 00:00:00 GMT', later), Date.UTC(2105, 0, 1), 'the window moves')
})

test('anything but the three forms is not a date', () => {
  for (const v of [
    '0',
    '-1',
    '',
    'yesterday',
    'Sun, 06 Xyz 1994 08:49:37 GMT',
    'Sun, 6 Nov 1994 08:49:37 GMTX',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Nov 1994 08:49:37 +0000',
    'sun, 06 nov 1994 08:49:37 gmt',
    'Xyz, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    '2099-01-01T00:00:00Z',
    '2099-01-01 00:00:00',
    'Thu Jan 01 2099 00:00:00 GMT+0000',
    'Sunday, 06-Nov-1994 08:49:37 GMT',
    'Sun, 06-Nov-94 08:49:37 GMT',
    'Sun Nov 6 08:49:37 1994',
    'Sun Nov  6 08:49:37 94',
    'Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT',
  ])
    assert.equal(httpDate(v), null, JSON.stringify(v))
  assert.equal(httpDate(undefined), null)
})
