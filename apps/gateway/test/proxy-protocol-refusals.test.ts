import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

// proxyProtocol.from decides who must send a PROXY header and who must not: a listed balancer without
// one, anyone else with one, a malformed header and a header that never completes all close the
// connection unanswered, each logged with its reason. Direct clients outside the list are served.

/** Writes `data` from `localAddress` and resolves with all that came back before the socket closed. */
function exchange(port: number, localAddress: string, data: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress })
    let got = ''
    socket.setEncoding('latin1')
    socket.on('data', (c: string) => {
      got += c
    })
    socket.on('error', () => {})
    socket.on('close', () => resolve(got))
    socket.setTimeout(30_000, () => {
      socket.destroy()
      reject(new Error('no close within 30 s'))
    })
    socket.write(data)
  })
}

const request = 'GET /who HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'

test('PROXY headers: required from proxyProtocol.from, refused from anyone else, strict and bounded in time', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      proxyProtocol: { from: ['127.0.0.2'], timeout: '300ms' },
      routes: [{ upstreams: [origin.url] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const port = Number(new URL(gw.urls.reverse!).port)
  const refusals = (reason: string) =>
    gw.waitForLog((l) => l.event === 'proxy-protocol' && l.reason === reason)

  // The balancer's header and the request in one write: the bytes after the header reach HTTP.
  const ok = await exchange(port, '127.0.0.2', `PROXY TCP4 127.0.0.9 127.0.0.1 5000 80\r\n${request}`)
  assert.match(ok, /^HTTP\/1\.1 200 /)
  assert.match(ok, /"x-forwarded-for":"127\.0\.0\.9"/)

  // A client outside the list is served as it is, and refused when it sends a header.
  const direct = await exchange(port, '127.0.0.1', request)
  assert.match(direct, /"x-forwarded-for":"127\.0\.0\.1"/)
  assert.equal(await exchange(port, '127.0.0.1', `PROXY TCP4 127.0.0.9 127.0.0.1 5000 80\r\n${request}`), '')
  const untrusted = await refusals('untrusted')
  assert.equal(untrusted.remote, '127.0.0.1')

  // The listed balancer without a header, with a malformed one, and with one that never ends.
  assert.equal(await exchange(port, '127.0.0.2', request), '')
  assert.equal((await refusals('missing')).remote, '127.0.0.2')
  assert.equal(
    await exchange(port, '127.0.0.2', `PROXY TCP4 127.0.0.9 127.0.0.1 5000 99999\r\n${request}`),
    '',
  )
  assert.match(String((await refusals('invalid')).detail), /port "99999"/)
  assert.equal(await exchange(port, '127.0.0.2', 'PROXY TCP4 127.0.0.9 '), '')
  assert.match(String((await refusals('timeout')).detail), /within 300 ms/)

  // None of them reached the origin: only the two requests that were served did.
  assert.equal(origin.hits, 2)
  assert.equal(await gw.stop(), 0)
})
