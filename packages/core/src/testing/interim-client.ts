import http, { type IncomingHttpHeaders } from 'node:http'

export interface InterimSeen {
  /** Every 1xx the client received, in order (node:http reports them as 'information'). */
  interim: Array<{ statusCode: number; headers: IncomingHttpHeaders }>
  statusCode: number
  headers: IncomingHttpHeaders
  body: string
}

/**
 * One request with node:http on a fresh connection, recording the interim (1xx) responses before the
 * final one. With `body`, it is a POST sent after `100 Continue` (`Expect: 100-continue`). `path` may be
 * absolute-form (a forward proxy's target). Fails after `timeoutMs`.
 */
export function requestWithInterim(
  port: number,
  path: string,
  options: { body?: string; host?: string; timeoutMs?: number } = {},
): Promise<InterimSeen> {
  const { body } = options
  return new Promise((resolve, reject) => {
    const interim: InterimSeen['interim'] = []
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port,
        path,
        method: body === undefined ? 'GET' : 'POST',
        agent: false,
        headers:
          body === undefined ? {} : { expect: '100-continue', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          text += c
        })
        res.on('end', () =>
          resolve({ interim, statusCode: res.statusCode!, headers: res.headers, body: text }),
        )
        res.on('error', reject)
      },
    )
    req.on('information', (info) => interim.push({ statusCode: info.statusCode, headers: info.headers }))
    req.on('continue', () => req.end(body))
    req.on('error', reject)
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('timed out')))
    if (body === undefined) req.end()
  })
}
