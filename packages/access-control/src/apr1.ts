import { createHash } from 'node:crypto'

// APR1-MD5 ("$apr1$salt$hash"), the default format of Apache's `htpasswd` (without -B). MD5 is weak: this
// exists so existing htpasswd files load; new hashes should be bcrypt (`htpasswd -B`) or scrypt.
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const APR1 = /^\$apr1\$([^$]{1,8})\$([./0-9A-Za-z]{22})$/

const md5 = (...parts: Buffer[]) => {
  const h = createHash('md5')
  for (const p of parts) h.update(p)
  return h.digest()
}

function to64(value: number, count: number): string {
  let out = ''
  let v = value
  for (let i = 0; i < count; i++) {
    out += ITOA64[v & 0x3f]
    v >>>= 6
  }
  return out
}

/** The APR1-MD5 crypt of `password` with `salt` (poul-henning kamp's md5crypt with the `$apr1$` magic). */
export function apr1(password: string, salt: string): string {
  const pw = Buffer.from(password, 'utf8')
  const magic = Buffer.from('$apr1$')
  const s = Buffer.from(salt.slice(0, 8), 'utf8')
  let final = md5(pw, s, pw)
  const ctx: Buffer[] = [pw, magic, s]
  for (let left = pw.length; left > 0; left -= 16) ctx.push(final.subarray(0, Math.min(16, left)))
  for (let i = pw.length; i > 0; i >>= 1) ctx.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1))
  final = md5(...ctx)
  for (let i = 0; i < 1000; i++) {
    const parts: Buffer[] = []
    parts.push(i & 1 ? pw : final)
    if (i % 3) parts.push(s)
    if (i % 7) parts.push(pw)
    parts.push(i & 1 ? final : pw)
    final = md5(...parts)
  }
  const f = final
  const hash =
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2)
  return `$apr1$${salt}$${hash}`
}
