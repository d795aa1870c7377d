// One access line's cost, outside a server: `node bench/lib/access-line-cost.mjs VARIANT N` writes N
// access lines of a 100 B cache hit to stdout, 10 per event-loop turn, as a loaded gateway's onResponse
// hooks do, then waits 300 ms (the last write). VARIANT:
//   old   what the gateway did until issue 28 item 2: the listener's pino child, `log.info(fields,
//         'access')` through the denial hook, to pino.destination({ sync: false, maxWrite: 4096 })
//   new   what it does now: access-line.ts's writer (the gateway's logger from gatewayLogger) to
//         log-destination.ts's LineBuffer
//   loop  the loop alone
// Run by `node bench/gateway.mjs accessline` under callgrind at two N: the difference over the lines
// between them is the instructions per line, start-up and module loading taken out.
import { createRequire } from 'node:module'

const APP = new URL('../../apps/gateway/', import.meta.url)
const require = createRequire(new URL('package.json', APP))
const pino = require('pino')
const D = new URL('dist/src/', APP).href
const [variant, n] = [process.argv[2], Number(process.argv[3])]
const f = {
  reqId: 'req-1',
  method: 'GET',
  target: '/',
  protocol: 'HTTP/1.1',
  route: 'r',
  status: 200,
  bytes: 312,
  ms: 0.41,
  remote: '127.0.0.1',
  end: 'complete',
  access: null,
  rule: null,
  user: null,
  cache: 'proxykit; hit',
  upstream: null,
  attempts: null,
}
let write
if (variant === 'old') {
  const { denialHook } = await import(`${D}ops/denials.js`)
  const log = pino(
    { level: 'info', base: { pid: process.pid }, hooks: denialHook(() => {}).hooks },
    pino.destination({ dest: 1, sync: false, maxWrite: 4096 }),
  ).child({ listener: 'reverse' })
  write = (i) =>
    log.info(
      {
        reqId: `req-${i}`,
        method: f.method,
        target: f.target,
        protocol: f.protocol,
        route: f.route,
        status: f.status,
        bytes: f.bytes,
        ms: f.ms,
        remote: f.remote,
        end: f.end,
        access: null,
        rule: null,
        user: null,
        cache: f.cache,
        upstream: null,
        attempts: null,
      },
      'access',
    )
} else if (variant === 'new') {
  const { resolveConfig } = await import(`${D}index.js`)
  const { gatewayLogger, accessWriterOf } = await import(`${D}access-line.js`)
  const { denialHook } = await import(`${D}ops/denials.js`)
  const config = resolveConfig({ admin: { listen: '127.0.0.1:0' } })
  const log = gatewayLogger(config, () => {}, denialHook(() => {}).hooks.logMethod).child({
    listener: 'reverse',
  })
  const w = accessWriterOf(log)
  write = (i) => {
    f.reqId = `req-${i}`
    w.write(log, 'reverse', f)
  }
} else write = () => {}
let i = 0
await new Promise((resolve) => {
  const turn = () => {
    for (let k = 0; k < 10; k++) write(i++)
    if (i >= n) resolve()
    else setImmediate(turn)
  }
  turn()
})
await new Promise((r) => setTimeout(r, 300))
