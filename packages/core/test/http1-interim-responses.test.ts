// Http1Pool hands each interim (1xx) response to the handler's onResponseInformational, in order and
// with its fields, before the one final response (onResponseStart still hears only that); 101 stays an
// error. Handlers without the method (undici's shape) are unaffected.
import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { test } from 'node:test'
import type { Http1Request } from '../src/http1/index.js'
import { ok, poolFor, startRawOrigin } from './http1-helpers.js'

test('103 and 102 reach onResponseInformational with their fields, then the final response', async (t) => {
  const origin = await startRawOrigin(
    () =>
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nLink: </app.js>; rel=preload\r\n\r\n' +
      'HTTP/1.1 102 Processing\r\n\r\n' +
      ok('final', 'x-final: yes\r\n'),
  )
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const seen: Array<[number, IncomingHttpHeaders, string]> = []
  const finals: number[] = []
  const chunks: Buffer[] = []
  await new Promise<void>((resolve, reject) => {
    pool.dispatch({ method: 'GET', path: '/' } as Http1Request, {
      onResponseInformational(_c, statusCode, headers, statusMessage) {
        assert.equal(finals.length, 0, 'interim responses come before the final one')
        seen.push([statusCode, headers, statusMessage])
      },
      onResponseStart(_c, statusCode) {
        finals.push(statusCode)
      },
      onResponseData(_c, chunk) {
        chunks.push(Buffer.from(chunk))
      },
      onResponseEnd: () => resolve(),
      onResponseError: (_c, err) => reject(err),
    })
  })
  assert.deepEqual(
    seen.map(([code, , message]) => [code, message]),
    [
      [103, 'Early Hints'],
      [102, 'Processing'],
    ],
  )
  assert.deepEqual(seen[0]![1].link, ['</style.css>; rel=preload', '</app.js>; rel=preload'])
  assert.deepEqual(finals, [200])
  assert.equal(Buffer.concat(chunks).toString(), 'final')
})
