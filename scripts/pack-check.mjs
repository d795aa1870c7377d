// Runs in a throwaway npm project where the packed tarballs are installed: each plugin, imported by its
// published name, is registered alone in a plain Fastify app and does its job on real loopback sockets.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import Fastify from 'fastify'

function get(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      )
    })
    req.on('error', reject)
  })
}

async function listen(app) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app.server.address().port
}

const { startOrigin } = await import('@proxykit/core/testing')
const origin = await startOrigin({
  handler: (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' })
    res.end(`origin saw ${req.url}`)
  },
})
const apps = []
const app = () => {
  const a = Fastify()
  apps.push(a)
  return a
}

try {
  {
    const a = app()
    await a.register((await import('@proxykit/core')).default)
    a.get('/hello', async (request) => ({ form: request.proxy.form }))
    const res = await get(await listen(a), '/hello')
    assert.equal(res.status, 200)
    assert.deepEqual(JSON.parse(res.body), { form: 'origin' })
    console.log('  ok @proxykit/core: request.proxy in a plain Fastify app')
  }
  {
    const a = app()
    await a.register((await import('@proxykit/forward-proxy')).default, { allow: ['127.0.0.1/32'] })
    const res = await get(await listen(a), `${origin.url}/via-forward?x=1`)
    assert.equal(res.status, 200, res.body)
    assert.equal(res.body, 'origin saw /via-forward?x=1')
    console.log('  ok @proxykit/forward-proxy: absolute-form GET through the proxy')
  }
  {
    const a = app()
    await a.register((await import('@proxykit/reverse-proxy')).default, {
      routes: [{ prefix: '/api', upstreams: [origin.url] }],
    })
    const res = await get(await listen(a), '/api/items')
    assert.equal(res.status, 200, res.body)
    assert.match(res.body, /^origin saw \/items/)
    console.log('  ok @proxykit/reverse-proxy: a prefix route reaches its upstream, the prefix stripped')
  }
  {
    const a = app()
    await a.register((await import('@proxykit/reverse-proxy/http-proxy')).default, {
      upstream: origin.url,
      prefix: '/api',
      rewritePrefix: '/v2',
    })
    const res = await get(await listen(a), '/api/items')
    assert.equal(res.status, 200, res.body)
    assert.match(res.body, /^origin saw \/v2\/items/)
    console.log('  ok @proxykit/reverse-proxy/http-proxy: @fastify/http-proxy options')
  }
  {
    const a = app()
    await a.register((await import('@proxykit/cache')).default)
    let calls = 0
    a.get('/cached', async (_request, reply) => {
      calls++
      reply.header('cache-control', 'max-age=60')
      return 'cached body'
    })
    const port = await listen(a)
    await get(port, '/cached')
    const second = await get(port, '/cached')
    assert.equal(second.body, 'cached body')
    assert.equal(calls, 1, 'the second request is a hit')
    assert.match(String(second.headers['cache-status']), /hit/)
    console.log('  ok @proxykit/cache: the second request is answered from the cache')
  }
  {
    const a = app()
    await a.register((await import('@proxykit/access-control')).default, {
      rules: [{ name: 'no-admin', action: 'deny', paths: ['/admin'] }],
      defaultAction: 'allow',
    })
    a.get('/admin', async () => 'secret')
    a.get('/open', async () => 'open')
    const port = await listen(a)
    assert.equal((await get(port, '/ADMIN')).status, 403)
    assert.equal((await get(port, '/open')).status, 200)
    console.log('  ok @proxykit/access-control: a path rule denies, the rest passes')
  }
  await import('@proxykit/cache/redis')
  console.log('  ok @proxykit/cache/redis imports')
  const help = execFileSync('node_modules/.bin/proxykit-gateway', ['--help'], { encoding: 'utf8' })
  assert.match(help, /proxykit-gateway/)
  const helpDocs = help.match(/\S+\.md\b/g) ?? []
  assert.ok(helpDocs.length >= 2, help)
  for (const doc of helpDocs) assert.ok(existsSync(doc), `--help names ${doc}, which is not installed`)
  console.log(`  ok @proxykit/gateway: the bin answers --help, naming ${helpDocs.length} installed documents`)
  for (const name of ['core', 'forward-proxy', 'reverse-proxy', 'cache', 'access-control', 'gateway']) {
    const dir = `node_modules/@proxykit/${name}`
    const readme = readFileSync(`${dir}/README.md`, 'utf8')
    for (const [, doc] of readme.matchAll(/\bdocs\/([\w.-]+\.md)\b/g))
      assert.ok(
        existsSync(`${dir}/docs/${doc}`),
        `@proxykit/${name}'s README names docs/${doc}, not in its tarball`,
      )
  }
  console.log('  ok every docs/… file a README names is in its tarball')
  const repo = process.argv[2]
  const license = readFileSync(`${repo}/LICENSE`, 'utf8')
  const root = JSON.parse(readFileSync(`${repo}/package.json`, 'utf8'))
  const repoUrl = root.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')
  for (const name of ['core', 'forward-proxy', 'reverse-proxy', 'cache', 'access-control', 'gateway']) {
    const dir = `node_modules/@proxykit/${name}`
    const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'))
    const id = `@proxykit/${name}`
    assert.equal(
      readFileSync(`${dir}/LICENSE`, 'utf8'),
      license,
      `${id}'s tarball holds the repository's LICENSE`,
    )
    assert.equal(
      pkg.license,
      license.split('\n')[0].replace(/ License$/, ''),
      `${id}: license names LICENSE's`,
    )
    assert.equal(pkg.repository?.url, root.repository.url, `${id}: repository.url`)
    assert.equal(pkg.homepage, `${repoUrl}/tree/main/${pkg.repository.directory}#readme`, `${id}: homepage`)
    assert.equal(pkg.bugs?.url, `${repoUrl}/issues`, `${id}: bugs`)
    assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.length > 0, `${id}: keywords`)
    const source = JSON.parse(readFileSync(`${repo}/${pkg.repository.directory}/package.json`, 'utf8'))
    assert.equal(source.name, id, `${id}: repository.directory`)
    assert.match(source.scripts?.prepack ?? '', /^tsc -b && /, `${id}: prepack builds first`)
    // What a user's install resolves: carets dedupe; exact pins and workspace:/catalog: protocols do not.
    for (const [dep, range] of Object.entries({ ...pkg.dependencies, ...pkg.optionalDependencies }))
      assert.match(range, /^\^\d+\.\d+\.\d+$/, `${id} depends on ${dep}@${range}: a caret range`)
    for (const [dep, range] of Object.entries(pkg.peerDependencies ?? {}))
      assert.match(range, /^(\^|>=)\d/, `${id} peer ${dep}@${range}: an open range`)
    // npm renders the README without the repository around it: links must be absolute (or in-page).
    const readme = readFileSync(`${dir}/README.md`, 'utf8')
    for (const [, href] of readme.matchAll(/\]\(([^)\s]+)\)/g))
      assert.match(href, /^(https:\/\/|#)/, `${id}'s README links to ${href}, which does not work on npm`)
    for (const [, href] of readme.matchAll(/\]\((https:\/\/github\.com\/[^)#\s]+)/g)) {
      if (!href.startsWith(`${repoUrl}/`)) continue
      const path = href.slice(repoUrl.length).replace(/^\/(blob|tree)\/main\//, '')
      assert.ok(existsSync(`${repo}/${path}`), `${id}'s README links to ${href}: no ${path}`)
    }
  }
  console.log(
    '  ok every tarball: LICENSE, repository/homepage/bugs/keywords, a prepack build, caret ranges, links',
  )
  const hash = execFileSync('node_modules/.bin/proxykit-gateway', ['hash-password'], {
    input: 'pack-check password\n',
    encoding: 'utf8',
  }).trim()
  const { verifyPassword } = await import('@proxykit/access-control')
  assert.equal(await verifyPassword('pack-check password', hash), true, hash)
  console.log('  ok @proxykit/gateway: hash-password prints a hash the auth accepts')
} finally {
  for (const a of apps) await a.close()
  await origin.close()
}
