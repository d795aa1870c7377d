// Issue 27 item 7: a `static` route serves a directory (index file, 404 for a missing file, no way out of
// the root), and with `cache: true` the shared cache answers in front of it: a file changed on disk is
// still served from the cache while fresh.
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { request } from 'undici'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('static: files from a directory, index, no traversal, and the cache in front', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'proxykit-static-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  await mkdir(join(root, 'docs'))
  await writeFile(join(root, 'index.html'), '<h1>home</h1>')
  await writeFile(join(root, 'app.css'), 'body { color: red }')
  await writeFile(join(root, 'docs', 'index.html'), 'docs')
  await writeFile(join(root, '.secret'), 'hidden')
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ prefix: '/static', cache: true, static: { root, maxAge: '1m' } }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const base = `${gw.urls.reverse}/static`

  const css = await request(`${base}/app.css`)
  assert.equal(css.statusCode, 200)
  assert.match(String(css.headers['content-type']), /^text\/css/)
  assert.equal(await css.body.text(), 'body { color: red }')
  assert.equal(await (await request(`${base}/`)).body.text(), '<h1>home</h1>')
  assert.equal(await (await request(`${base}/docs/`)).body.text(), 'docs')
  const missing = await request(`${base}/nope.txt`)
  await missing.body.dump()
  assert.equal(missing.statusCode, 404)
  const dot = await request(`${base}/.secret`)
  await dot.body.dump()
  assert.equal(dot.statusCode, 404, 'dotfiles are ignored by default')
  const out = await curl([
    '--path-as-is',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `${base}/../../../etc/passwd`,
  ])
  assert.notEqual(out.stdout, '200')
  const encoded = await curl([
    '--path-as-is',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `${base}/%2e%2e/%2e%2e/etc/passwd`,
  ])
  assert.notEqual(encoded.stdout, '200')

  // The first answer was stored: a change on disk is not seen while the entry is fresh.
  await writeFile(join(root, 'app.css'), 'body { color: blue }')
  const hit = await request(`${base}/app.css`)
  assert.equal(await hit.body.text(), 'body { color: red }')
  assert.match(String(hit.headers['cache-status']), /hit/)
  assert.equal(await gw.stop(), 0)
})
