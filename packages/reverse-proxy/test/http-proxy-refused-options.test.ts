import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import httpProxy from '../src/http-proxy.js'

// An @fastify/http-proxy option the drop-in entry cannot honour fails at registration and names itself,
// rather than being ignored.
const REFUSED: Array<[string, Record<string, unknown>, RegExp]> = [
  [
    'replyOptions.onResponse',
    { replyOptions: { onResponse: () => {} } },
    /replyOptions\.onResponse: the upstream body streams/,
  ],
  [
    'replyOptions.retriesCount',
    { replyOptions: { retriesCount: 2 } },
    /replyOptions\.retriesCount: not supported/,
  ],
  ['proxyPayloads: false', { proxyPayloads: false }, /proxyPayloads: only true/],
  [
    'internalRewriteLocationHeader',
    { internalRewriteLocationHeader: false },
    /internalRewriteLocationHeader: only true/,
  ],
  ['wsReconnect', { websocket: true, wsReconnect: {} }, /wsReconnect: not supported/],
  ['undici', { undici: { connections: 10 } }, /undici: not supported/],
  ['an empty upstream', { upstream: '' }, /upstream: must be an http\(s\) URL/],
  ['httpMethods', { httpMethods: ['FETCH'] }, /httpMethods: FETCH is not a method/],
  ['replyOptions.onError', { replyOptions: { onError: 'x' } }, /replyOptions\.onError: must be a function/],
]

for (const [name, options, message] of REFUSED) {
  test(`@proxykit/reverse-proxy/http-proxy refuses ${name} at registration, by name`, async () => {
    const app = Fastify()
    await assert.rejects(
      async () => {
        await app.register(httpProxy, { upstream: 'http://127.0.0.1:1', ...options } as never)
        await app.ready()
      },
      (err: Error) => {
        assert.equal((err as Error & { code?: string }).code, 'PK_INVALID_OPTION')
        assert.match(err.message, /^@proxykit\/reverse-proxy\/http-proxy: /)
        assert.match(err.message, message)
        return true
      },
    )
    await app.close().catch(() => {})
  })
}
