import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'

// The scrypt hash format: `scrypt$N$r$p$salt$hash`, salt and hash in base64url (no padding), N a power
// of two. The parameters travel with the hash so they can be raised later without invalidating old ones.
const SCRYPT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/
const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/

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
  if (BCRYPT.test(hash)) return null
  return 'not a supported password hash (scrypt$N$r$p$salt$hash, or bcrypt $2a$/$2b$/$2y$)'
}

/** Checks a password against an scrypt or bcrypt hash, comparing in constant time. */
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
  return false
}
