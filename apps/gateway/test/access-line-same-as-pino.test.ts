import assert from 'node:assert/strict'
import { closeSync, openSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type { FastifyBaseLogger } from 'fastify'
import pino from 'pino'
import { type AccessFields, AccessLineWriter } from '../src/access-line.js'
import { accessLogHook } from '../src/access-log-file.js'
import { resolveConfig } from '../src/index.js'
import { LineBuffer } from '../src/log-destination.js'
import type { DenialEvent } from '../src/ops/live-stats.js'

// access-line.ts builds the access line with a template instead of pino's object walk: for the same
// fields it must write the same line pino writes through the gateway's logger (key order, escaping,
// nulls, `log.fields`), but for `time`; and report a denial to the dashboard as pino's hook did.

const fields: AccessFields[] = [
  {
    reqId: 'req-1',
    method: 'GET',
    target: '/plain',
    protocol: 'HTTP/1.1',
    route: 'web',
    status: 200,
    bytes: 312,
    ms: 1.25,
    remote: '127.0.0.1',
    end: 'complete',
    access: null,
    rule: null,
    user: null,
    cache: 'proxykit; hit',
    upstream: null,
    attempts: null,
  },
  {
    // Everything a client or an upstream may put in a string: quotes, backslashes, control characters,
    // non-ASCII.
    reqId: 'req-"2"\\',
    method: 'POST',
    target: '/a"b\\c\u0001\u001f\ttab/é/😀',
    protocol: 'HTTP/2',
    route: 'r"oute',
    status: 403,
    bytes: 0,
    ms: 0,
    remote: '::ffff:127.0.0.2',
    end: 'client-closed',
    access: 'deny',
    rule: 'rule "x"',
    user: 'bäd \u2028 user',
    cache: 'proxykit; fwd=uri-miss; detail="no \\"store"',
    upstream: 'http://127.0.0.1:8080',
    attempts: 2,
  },
  {
    reqId: 'req-3',
    method: undefined,
    target: '',
    protocol: 'HTTP/1.0',
    route: 'unmatched',
    status: 429,
    bytes: 12,
    ms: Number.NaN,
    remote: '',
    end: 'incomplete',
    access: 'allow',
    rule: null,
    user: null,
    cache: null,
    upstream: null,
    attempts: null,
  },
]

/** A pino logger as the gateway builds it, writing into `lines`; its listener child. */
function pinoListener(logConfig: object, lines: string[]) {
  const config = resolveConfig({ admin: { listen: '127.0.0.1:0' }, log: logConfig })
  const hook = accessLogHook(config)
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk))
      cb()
    },
  })
  const root = pino(
    { level: 'info', base: { pid: process.pid }, ...(hook === null ? {} : { hooks: { logMethod: hook } }) },
    sink,
  )
  return { config, root, child: root.child({ listener: 'reverse' }) }
}

const withoutTime = (line: string) => line.replace(/^\{"level":30,"time":\d+,/, '{"level":30,')

for (const [name, logConfig] of [
  ['every field', {}],
  ['log.fields', { fields: ['method', 'target', 'status', 'user', 'cache'] }],
] as const) {
  test(`the access line is pino's, byte for byte but for time: ${name}`, async (t) => {
    const expected: string[] = []
    const { config, root, child } = pinoListener(logConfig, expected)
    for (const f of fields) child.info({ ...f }, 'access')

    const dir = await mkdtemp(join(tmpdir(), 'proxykit-line-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const path = join(dir, 'out.log')
    const fd = openSync(path, 'w')
    t.after(() => closeSync(fd))
    const out = new LineBuffer({ fd })
    const denials: DenialEvent[] = []
    const writer = new AccessLineWriter(root, config.log, out, (e) => denials.push(e))
    for (const f of fields) writer.write(child as unknown as FastifyBaseLogger, 'reverse', f)
    await new Promise<void>((resolve) => out.flush(() => resolve()))
    const written = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '')

    assert.equal(written.length, fields.length)
    assert.deepEqual(
      written.map(withoutTime),
      expected.map((l) => withoutTime(l.trimEnd())),
    )
    for (const l of written) assert.doesNotThrow(() => JSON.parse(l))
    // Where the two differ: a lone surrogate (pino writes it raw, which UTF-8 turns into U+FFFD), written
    // escaped here, so that the line reads back as it was.
    const lone = { ...fields[0]!, user: 'bad\ud800user' }
    writer.write(child as unknown as FastifyBaseLogger, 'reverse', lone)
    await new Promise<void>((resolve) => out.flush(() => resolve()))
    const last = (await readFile(path, 'utf8')).trimEnd().split('\n').at(-1)!
    assert.equal(JSON.parse(last).user, lone.user)
    // The dashboard's feed: the 403 and the 429, as denials.ts's hook reported them.
    assert.deepEqual(
      denials.map((d) => [d.status, d.rule, d.listener, d.method, d.target]),
      [
        [403, 'rule "x"', 'reverse', 'POST', fields[1]!.target],
        [429, 'rate limit', 'reverse', null, ''],
      ],
    )
  })
}
