// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${clientIp}` and the like are the config's own variables, not template literals
// Issue 27 item 2: redirect rules answer before anything else, with regex captures, the status asked
// for, a scheme and host change through variables, and the query kept; the listener's rules cover every
// request, after the route's own.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('redirects: captures, status, scheme and host change, query kept, origin never asked', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      redirects: [{ from: '^/legacy(/.*)?$', to: 'https://${host}/v2$1', status: 308 }],
      routes: [
        {
          prefix: '/',
          upstreams: [origin.url],
          redirects: [
            { from: '^/old/(?<rest>.*)$', to: '/new/$<rest>', status: 301 },
            { from: '^/go/([a-z]+)/(\\d+)$', to: '/items/$2?kind=$1' },
          ],
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const head = async (path: string) => {
    const r = await curl([
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %header{location}',
      '-H',
      'host: shop.test:8080',
      `${gw.urls.reverse}${path}`,
    ])
    return r.stdout
  }
  assert.equal(await head('/old/a/b?x=1'), '301 /new/a/b?x=1')
  assert.equal(await head('/go/book/42?ref=mail'), '302 /items/42?kind=book&ref=mail')
  assert.equal(await head('/legacy/page'), '308 https://shop.test/v2/page')
  assert.equal(origin.hits, 0, 'a redirect never reaches the upstream')
  const through = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', `${gw.urls.reverse}/older/x`])
  assert.equal(through.stdout, '200', 'a path no rule matches is proxied')
  assert.equal(origin.hits, 1)
  assert.equal(await gw.stop(), 0)
})
