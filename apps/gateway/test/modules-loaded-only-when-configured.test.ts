import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTestCa } from './helpers/tls.js'

// Issue 28 (memory): what the gateway loads beyond its plugins is loaded only by a config that uses it.
// The TLS modules with acme-client, the forward proxy, jose, undici (forward auth) and the route plugins
// (@fastify/cors, helmet, compress, static) were loaded at every start. Checked in a fresh process
// whose module loader records every file it loads (ES modules and CommonJS alike).

const GATEWAY = new URL('../src/index.js', import.meta.url).href

// A module is loaded when a file under one of these paths is.
const OPTIONAL = {
  'acme-client': '/acme-client/',
  jose: '/jose/',
  undici: '/undici/',
  '@fastify/cors': '/@fastify/cors/',
  // Not listed: helmet, with which the gateway computes a route's helmet headers once; the config check
  // needs it synchronously, so it is require()d on the first helmet config, which this test's loader hook
  // does not see (a gap left for now).
  '@fastify/compress': '/@fastify/compress/',
  '@fastify/static': '/@fastify/static/',
  'forward-proxy': '/forward-proxy/dist/',
  'tls/acme.js': '/gateway/dist/src/tls/acme.js',
} as const

async function loadedBy(config: unknown): Promise<Set<string>> {
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-modules-'))
  try {
    const log = join(dir, 'loaded.txt')
    await writeFile(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs'
      export async function load(url, context, next) {
        appendFileSync(${JSON.stringify(log)}, url + '\\n')
        return next(url, context)
      }`,
    )
    await writeFile(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module'
      register(${JSON.stringify(new URL(`file://${join(dir, 'hooks.mjs')}`).href)})`,
    )
    const script = `
      const { resolveConfig, startGateway } = await import(${JSON.stringify(GATEWAY)})
      const pino = (await import('pino')).default
      const gw = await startGateway(resolveConfig(${JSON.stringify(config)}), { logger: pino({ level: 'silent' }) })
      await gw.close(100)
    `
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', script],
        { cwd: new URL('../..', import.meta.url), timeout: 120_000 },
        (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve()),
      )
    })
    const urls = (await readFile(log, 'utf8')).split('\n').map(decodeURIComponent)
    const loaded = new Set<string>()
    for (const [name, part] of Object.entries(OPTIONAL))
      if (urls.some((u) => u.includes(part) || u.includes(part.replace('/@fastify/', '/@fastify+'))))
        loaded.add(name)
    return loaded
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('the TLS, ACME, forward proxy, auth and route plugin modules load only when the config uses them', async (t) => {
  const plain = await loadedBy({
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: ['http://127.0.0.1:1'], cache: true }] },
    admin: { listen: '127.0.0.1:0' },
  })
  assert.deepEqual([...plain], [], 'a reverse route with the cache loads none of them')

  const ca = await createTestCa(t)
  const cert = await ca.issue(['modules.test'])
  const root = await mkdtemp(join(tmpdir(), 'proxykit-modules-static-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const everything = await loadedBy({
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'] },
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      routes: [
        {
          name: 'api',
          prefix: '/api',
          upstreams: ['http://127.0.0.1:1'],
          cors: { origin: ['https://app.test'] },
          helmet: { contentSecurityPolicy: false },
          compress: { encodings: ['gzip'] },
          auth: { jwt: { secret: 'a-secret-of-at-least-thirty-two-characters' } },
        },
        {
          name: 'delegated',
          prefix: '/delegated',
          upstreams: ['http://127.0.0.1:1'],
          auth: { forward: { url: 'http://127.0.0.1:1/auth' } },
        },
        { name: 'files', prefix: '/files', static: { root } },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  // What a config that uses each of them loads: the check above sees these modules when they load.
  assert.deepEqual(
    [...everything].sort(),
    Object.keys(OPTIONAL).sort(),
    'a config with tls, a forward listener, cors, helmet, compress, jwt, forward auth and static loads them all',
  )
})
