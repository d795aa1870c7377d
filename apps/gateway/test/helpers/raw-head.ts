import { request as httpRequest } from 'node:http'

/**
 * The status and header fields of an answer as sent (names as spelled, in order, repeats kept), Date
 * left out (it moves): what tests comparing two servers' heads line by line read. No keep-alive, so the
 * server closes at once when its test ends.
 */
export function rawHead(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; fields: Array<[string, string]> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { ...options, agent: false }, (res) => {
      res.resume()
      const fields: Array<[string, string]> = []
      for (let i = 0; i < res.rawHeaders.length; i += 2)
        if (res.rawHeaders[i]!.toLowerCase() !== 'date')
          fields.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!])
      res.on('end', () => resolve({ status: res.statusCode!, fields }))
    })
    req.on('error', reject)
    req.end()
  })
}
