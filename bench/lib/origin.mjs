#!/usr/bin/env node
// A tiny node:http origin for benchmarks: every request gets 200 with a fixed body of BODY_SIZE bytes
// (default 100). Listens on HOST (127.0.0.1) and PORT (0: the OS picks), then prints one JSON line
// `{"url": "...", "port": N}` for the harness. Stops on SIGTERM/SIGINT.
import http from 'node:http'

const size = Number(process.env.BODY_SIZE ?? 100)
const host = process.env.HOST ?? '127.0.0.1'
const body = Buffer.alloc(size, 'x')
const headers = { 'content-type': 'application/octet-stream', 'content-length': String(size) }

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
