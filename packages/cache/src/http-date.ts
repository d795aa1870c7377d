// HTTP-dates (RFC 9110 §5.6.7), read by the freshness rules (Date, Expires, Last-Modified) and by
// conditional requests and ranges (If-Modified-Since, If-Range).

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec'
const DAY_NAMES = 'MonTueWedThuFriSatSun'
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function digits(v: string, at: number, count: number): number {
  let n = 0
  for (let i = at; i < at + count; i++) {
    const c = v.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/** `Jan`..`Dec` at `at` (case-sensitive, as RFC 9110's ABNF has it): 0-11, or -1. */
function month(v: string, at: number): number {
  const m = MONTHS.indexOf(v.slice(at, at + 3))
  return m >= 0 && m % 3 === 0 ? m / 3 : -1
}

/** `hh:mm:ss` at `at` (00:00:00 to 23:59:60, a leap second allowed): seconds into the day, or -1. */
function timeOfDay(v: string, at: number): number {
  if (v.charCodeAt(at + 2) !== 58 || v.charCodeAt(at + 5) !== 58) return -1
  const h = digits(v, at, 2)
  const m = digits(v, at + 3, 2)
  const s = digits(v, at + 6, 2)
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return -1
  return h * 3600 + m * 60 + s
}

function utc(year: number, m: number, day: number, seconds: number): number | null {
  if (m < 0 || seconds < 0 || year < 0) return null
  const leap = m === 1 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day < 1 || day > DAYS_IN_MONTH[m]! + (leap ? 1 : 0)) return null
  if (year >= 100) return Date.UTC(year, m, day) + seconds * 1000
  // Date.UTC reads years 0-99 as 1900-1999.
  const d = new Date(0)
  d.setUTCFullYear(year, m, day)
  return d.getTime() + seconds * 1000
}

// rfc850-date's day-name-l: the full day names, each followed by ", ".
const RFC850 =
  /^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, (\d\d)-([A-Z][a-z][a-z])-(\d\d) (\d\d:\d\d:\d\d) GMT$/
// asctime-date: `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space).
const ASCTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z][a-z]) ([ \d]\d) (\d\d:\d\d:\d\d) (\d{4})$/

/**
 * RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in the future is the most recent
 * past year with the same last two digits (so in 2026, `94` is 1994 and `30` is 2030).
 */
function twoDigitYear(yy: number, now: number): number {
  const current = new Date(now).getUTCFullYear()
  let year = current - (current % 100) + yy
  if (year > current + 50) year -= 100
  else if (year <= current - 50) year += 100
  return year
}

/**
 * An HTTP-date (RFC 9110 §5.6.7) in ms since the epoch, or null: exactly the three forms of its ABNF,
 * IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, what servers send, read field by field: `Date.parse` is
 * general and slow, `node bench/cache.mjs instructions`), the obsolete RFC 850 and asctime forms,
 * with day, month and time checked. Anything else is not a date: RFC 9111 §5.3 makes an invalid
 * `Expires` "already expired", which `Date.parse` (reading ISO 8601, numeric zones, a lone `0` …) would
 * have turned into any instant at all. `now` places a two-digit RFC 850 year.
 */
export function httpDate(v: string | undefined, now: number = Date.now()): number | null {
  if (v === undefined) return null
  if (v.length === 29) {
    // IMF-fixdate = day-name "," SP 2DIGIT SP month SP 4DIGIT SP hh:mm:ss SP "GMT"
    const d = DAY_NAMES.indexOf(v.slice(0, 3))
    if (
      d < 0 ||
      d % 3 !== 0 ||
      v.charCodeAt(3) !== 44 /* , */ ||
      v.charCodeAt(4) !== 32 ||
      v.charCodeAt(7) !== 32 ||
      v.charCodeAt(11) !== 32 ||
      v.charCodeAt(16) !== 32 ||
      !v.endsWith(' GMT')
    )
      return null
    return utc(digits(v, 12, 4), month(v, 8), digits(v, 5, 2), timeOfDay(v, 17))
  }
  let m = RFC850.exec(v)
  if (m !== null)
    return utc(twoDigitYear(Number(m[3]), now), month(m[2]!, 0), Number(m[1]), timeOfDay(m[4]!, 0))
  m = ASCTIME.exec(v)
  if (m !== null) {
    return utc(Number(m[4]), month(m[1]!, 0), Number(m[2]!.trim()), timeOfDay(m[3]!, 0))
  }
  return null
}
