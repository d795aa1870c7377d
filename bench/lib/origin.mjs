#!/usr/bin/env node
// A tiny node:http origin for benchmarks: every request gets 200 with a fixed body of BODY_SIZE bytes
// (default 100; BODY_TEXT=1 for text). Listens on HOST (127.0.0.1) and PORT (0: the OS picks), then prints one JSON line
// `{"url": "...", "port": N}` for the harness. CACHE_CONTROL sets a Cache-Control field (e.g. `max-age=600`
// for cache hits). Stops on SIGTERM/SIGINT.
import http from 'node:http'

const size = Number(process.env.BODY_SIZE ?? 100)
const host = process.env.HOST ?? '127.0.0.1'
// BODY_TEXT=1: a text/plain body of English-like text, which compression middleware compresses (it leaves
// application/octet-stream alone) at a ratio closer to real pages than a run of one byte would.
const text = process.env.BODY_TEXT === '1'
const body = text
  ? Buffer.alloc(size, 'The quick brown fox jumps over the lazy dog; proxies relay what origins send. ')
  : Buffer.alloc(size, 'x')
const headers = {
  'content-type': text ? 'text/plain; charset=utf-8' : 'application/octet-stream',
  'content-length': String(size),
  ...(process.env.CACHE_CONTROL ? { 'cache-control': process.env.CACHE_CONTROL } : {}),
}

const server = http.createServer((req, res) => {
  // Drain a request body, if any, before answering.
  req.resume()
  res.writeHead(200, headers)
  res.end(body)
})
server.keepAliveTimeout = 60_000
server.listen(Number(process.env.PORT ?? 0), host, () => {
  const { port } = server.address()
  const h = host.includes(':') ? `[${host}]` : host
  process.stdout.write(`${JSON.stringify({ url: `http://${h}:${port}`, port })}\n`)
})
const stop = () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
