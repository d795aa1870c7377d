import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { rawRequest, startTcpOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

/** A raw upstream that answers every request head it sees with a small 200, and keeps the exact bytes. */
async function recordingOrigin(t: TestContext) {
  const origin = await startTcpOrigin((socket, received) => {
    let answered = 0
    socket.on('data', () => {
      const heads = Buffer.concat(received).toString('latin1').split('\r\n\r\n').length - 1
      for (; answered < heads; answered++) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
    })
  })
  t.after(() => origin.close())
  return origin
}

const METHOD_LINE = /^[A-Z]+ \S+ HTTP\/1\.1$/

/** Checks that `bytes` hold at most one request, well formed: CRLF lines, no NUL, one framing. */
function assertAtMostOneWellFormed(bytes: Buffer, shape: string): void {
  const text = bytes.toString('latin1')
  if (text.length === 0) return
  assert.ok(!text.includes('\0'), `${shape}: no NUL reached the upstream`)
  const end = text.indexOf('\r\n\r\n')
  assert.ok(end > 0, `${shape}: a complete head`)
  const lines = text.slice(0, end).split('\r\n')
  assert.match(lines[0]!, METHOD_LINE, `${shape}: a request line`)
  for (const line of lines.slice(1))
    assert.match(line, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\r\n]*$/, `${shape}: header ${line}`)
  assert.ok(!/\n(?<!\r\n)/.test(text.slice(0, end)), `${shape}: no bare LF`)
  const names = lines.slice(1).map((l) => l.slice(0, l.indexOf(':')).toLowerCase())
  const cl = names.filter((n) => n === 'content-length').length
  const te = names.filter((n) => n === 'transfer-encoding').length
  assert.ok(cl + te <= 1, `${shape}: one framing header at most (${cl} CL, ${te} TE)`)
  let rest = text.slice(end + 4)
  if (cl === 1) {
    const n = Number(lines.find((l) => l.toLowerCase().startsWith('content-length:'))!.split(':')[1])
    rest = rest.slice(n)
  } else if (te === 1) {
    assert.match(lines.find((l) => l.toLowerCase().startsWith('transfer-encoding:'))!, /: chunked$/)
    const last = rest.indexOf('0\r\n\r\n')
    assert.ok(last !== -1, `${shape}: a terminated chunked body`)
    rest = rest.slice(last + 5)
  }
  assert.equal(rest, '', `${shape}: nothing after the one request (no smuggled second request)`)
}

const smuggled = 'GET /admin HTTP/1.1\r\nHost: x\r\n\r\n'
const shapes: Record<string, string> = {
  'CL and TE': `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  'TE and CL': `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${smuggled}`,
  'two differing CLs': `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 33\r\n\r\n${smuggled}`,
  'CL list': `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 33\r\n\r\n${smuggled}`,
  'TE xchunked': `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${smuggled}`,
  'TE with space before colon': `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${smuggled}`,
  'TE chunked, identity': `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
  'TE identity, chunked twice': `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  'TE with vertical tab': `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\x0bchunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${smuggled}`,
  'bare LF': `GET /a HTTP/1.1\nHost: x\nX-Pad: 1\n\n${smuggled}`,
  'bare LF in chunk size': `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n${smuggled}`,
  'NUL in a header': `GET /a HTTP/1.1\r\nHost: x\r\nX-Evil: a\0b\r\n\r\n`,
  'obs-fold': `GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n Transfer-Encoding: chunked\r\n\r\n`,
}

for (const [shape, bytes] of Object.entries(shapes)) {
  test(`request smuggling shape reaches the upstream as at most one well-formed request: ${shape}`, async (t) => {
    const origin = await recordingOrigin(t)
    const routed: string[] = []
    const proxy = await startProxy(
      t,
      { routes: [{ upstreams: [`http://127.0.0.1:${origin.port}`] }] },
      { before: (app) => app.addHook('onRequest', async (r) => void routed.push(`${r.method} ${r.url}`)) },
    )
    const res = await rawRequest(proxy.port, bytes, { idleMs: 1000 })
    assert.ok([200, 400, 501].includes(res.statusCode), `${shape}: answered ${res.statusCode}`)
    if (routed.length > 1) {
      // The proxy itself read a second, pipelined request (framing it agrees on with the upstream,
      // because it re-frames every message): that one went through every hook like any other.
      assert.ok(routed.includes('GET /admin'), `${shape}: ${routed}`)
      assert.equal(res.statusCode, 501, `${shape}: the ambiguous first request is refused`)
    }
    // Every connection the proxy opened to the upstream carries at most one request, well formed.
    const all = origin.received.map((c) => Buffer.concat(c))
    const total = all.reduce(
      (n, b) => n + b.toString('latin1').split(/^[A-Z]+ \S+ HTTP\/1\.1\r$/m).length - 1,
      0,
    )
    assert.ok(total <= 1, `${shape}: ${total} requests reached the upstream`)
    for (const b of all) assertAtMostOneWellFormed(b, shape)
    if (!routed.includes('GET /admin'))
      assert.ok(
        !all.some((b) => b.includes('/admin')),
        `${shape}: the smuggled request never reached the upstream`,
      )
  })
}
