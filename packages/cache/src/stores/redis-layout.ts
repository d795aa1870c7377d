// The Redis store's key layout and the scripts that keep each operation on one key.
import { createHash } from 'node:crypto'
import type { CachedResponse } from '../store.js'

// Key layout, one key per operation so that it works unchanged on a Redis Cluster (no multi-key command or
// script, hence no cross-slot one, and no KEYS):
// - `<prefix>u:<url>`: one hash per URL; `m:<variant>` holds the JSON head, `b:<variant>` the body bytes.
//   The hash lives as long as its longest-lived variant (PTTL only ever grows); expired variants are
//   skipped and removed on read. A write is one script on this key, so a reader never sees a head without
//   its body.
// - `<prefix>t:<tag>`: a set of URLs (an index, not the truth): a write adds its URL to its tags' sets
//   first, then writes the entry, so a tag purge that runs in between deletes that URL's older entry and
//   the write lands after it, as if it came after the purge. A purge removes only the members it read.
// - `<prefix>l:<url>`: the collapsing lock (`acquire`/`release`).
export const WRITE = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local ttl = tonumber(ARGV[5])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`

export const TAG = `
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`

// Deletes one URL's hash and answers how many entries (variants: `m:` fields) went, in one step so that
// the count is what was deleted.
export const DELETE = `
local n = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 2) == 'm:' then n = n + 1 end
end
redis.call('DEL', KEYS[1])
return n`

export const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** A variant's field suffix: a digest of the request header values its Vary names, `-` without Vary. */
export function variantId(vary: CachedResponse['vary']): string {
  if (vary === null) return '-'
  const names = Object.keys(vary).sort()
  return createHash('sha1')
    .update(JSON.stringify(names.map((n) => [n, vary[n]])))
    .digest('base64url')
}
