import type { TestContext } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'

/**
 * An upstream that accepts each connection, reads the request head and resets the connection without a
 * byte of answer: the failure a retry is for. `requests()` counts the request heads it received.
 */
export async function resettingUpstream(t: TestContext) {
  const origin = await startTcpOrigin((socket, received) => {
    socket.on('data', () => {
      if (Buffer.concat(received).includes('\r\n\r\n')) socket.resetAndDestroy()
    })
  })
  t.after(() => origin.close())
  return {
    url: `http://127.0.0.1:${origin.port}`,
    requests: () => origin.received.filter((c) => Buffer.concat(c).includes('\r\n\r\n')).length,
  }
}
