import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'
import { APR1, apr1 } from './apr1.js'

// The scrypt hash format: `scrypt$N$r$p$salt$hash`, salt and hash in base64url (no padding), N a power
// of two. The parameters travel with the hash so they can be raised later without invalidating old ones.
const SCRYPT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/
const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/
// htpasswd -s: unsalted SHA-1, accepted only so old files load.
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/

const sameBytes = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export interface ScryptParams {
  /** CPU/memory cost, a power of two (default 16384). */
  N?: number
  r?: number
  p?: number
}

function scrypt(password: string, salt: Buffer, length: number, N: number, r: number, p: number) {
  return new Promise<Buffer>((resolve, reject) => {
    scryptCallback(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

/** Makes a password hash for `auth.users`: `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(password: string, params: ScryptParams = {}): Promise<string> {
  const N = params.N ?? 16384
  const r = params.r ?? 8
  const p = params.p ?? 1
  const salt = randomBytes(16)
  const hash = await scrypt(password, salt, 32, N, r, p)
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

/** Why `hash` is not a hash we can check, or null when it is one. */
export function checkHashFormat(hash: string): string | null {
  const m = SCRYPT.exec(hash)
  if (m !== null) {
    const N = Number(m[1])
    if (N < 2 || (N & (N - 1)) !== 0) return 'scrypt N must be a power of two'
    if (Number(m[2]) < 1 || Number(m[3]) < 1) return 'scrypt r and p must be positive'
    return null
  }
  if (BCRYPT.test(hash) || APR1.test(hash) || SHA1.test(hash)) return null
  return 'not a supported password hash (scrypt$N$r$p$salt$hash, bcrypt $2a$/$2b$/$2y$, $apr1$ or {SHA})'
}

/** Checks a password against an scrypt, bcrypt, APR1-MD5 or {SHA} hash, comparing in constant time. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const m = SCRYPT.exec(hash)
  if (m !== null) {
    const expected = Buffer.from(m[5]!, 'base64url')
    const actual = await scrypt(
      password,
      Buffer.from(m[4]!, 'base64url'),
      expected.length,
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
    )
    return actual.length === expected.length && timingSafeEqual(actual, expected)
  }
  if (BCRYPT.test(hash)) {
    // bcryptjs reads $2y$ (what `htpasswd -B` writes) like $2b$; its comparison is constant-time.
    return bcrypt.compare(password, hash)
  }
  const a = APR1.exec(hash)
  if (a !== null) return sameBytes(apr1(password, a[1]!), hash)
  if (SHA1.test(hash)) return sameBytes(`{SHA}${createHash('sha1').update(password).digest('base64')}`, hash)
  return false
}
