import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolveConfig } from './config/parse.js'
import type { GatewayConfig } from './config/types.js'
import type { Gateway } from './gateway.js'

/** The two demo upstreams the built-in demo puts behind the reverse listener. */
export interface Demo {
  upstreams: string[]
  close(): Promise<void>
}

function demoHandler(name: string): http.RequestListener {
  let served = 0
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      return
    }
    // Counted after the health check's path: `served` says how many requests the proxy sent, not probes.
    served++
    // /cached may be stored for a minute; everything else is private, so round robin stays visible.
    const cacheControl =
      path === '/cached' || path?.startsWith('/cached/') ? 'public, max-age=60' : 'no-store'
    const body = `${JSON.stringify({ upstream: name, path: req.url, served, at: new Date().toISOString() })}\n`
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': cacheControl,
    })
    res.end(body)
  }
}

/** Starts the two demo upstreams on loopback ports chosen by the OS. */
export async function startDemoUpstreams(): Promise<Demo> {
  const servers = ['demo-a', 'demo-b'].map((name) => http.createServer(demoHandler(name)))
  for (const s of servers) {
    s.listen(0, '127.0.0.1')
    await once(s, 'listening')
  }
  return {
    upstreams: servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`),
    async close() {
      for (const s of servers) {
        s.closeAllConnections()
        await new Promise<void>((r) => s.close(() => r()))
      }
    },
  }
}

/**
 * The built-in demo's config: the demo upstreams behind the reverse listener (round robin, cache on,
 * active health checks), a forward listener allowing only loopback demo hosts (and CONNECT to the demo
 * ports), and the admin listener with a fresh token. Every listener on a free loopback port.
 */
export function demoConfig(upstreams: string[], token = randomBytes(12).toString('hex')): GatewayConfig {
  const ports = upstreams.map((u) => Number(new URL(u).port))
  return resolveConfig(
    {
      forward: {
        listen: '127.0.0.1:0',
        allow: ['127.0.0.1', '::1', 'localhost'],
        connectPorts: [443, ...ports],
        cache: true,
      },
      reverse: {
        listen: '127.0.0.1:0',
        routes: [
          {
            name: 'demo',
            prefix: '/',
            upstreams,
            balancer: 'round-robin',
            healthCheck: { path: '/healthz', interval: '2s', timeout: '1s' },
            cache: true,
            deny: ['/admin'],
          },
        ],
      },
      admin: { listen: '127.0.0.1:0', token },
      shutdown: { grace: '5s' },
    },
    'demo config',
  )
}

/** The banner: what listens where, and curl commands that work as printed. */
export function demoBanner(gateway: Gateway, demo: Demo): string {
  const f = gateway.listeners.forward!.url
  const r = gateway.listeners.reverse!.url
  const a = gateway.listeners.admin!.url
  const token = gateway.config.admin!.token!
  const [ua] = demo.upstreams
  return `
proxykit gateway: built-in demo (run with --config FILE for your own; --help for more)

  reverse proxy   ${r}   round robin over 2 demo upstreams, cache on, /admin denied
  forward proxy   ${f}   allows loopback demo hosts only
  admin           ${a}   dashboard at ${a}/, token ${token}
  demo upstreams  ${demo.upstreams.join('  ')}

Try these (each works as pasted):
  curl -s ${r}/hello
  curl -s ${r}/hello
  curl -s -i ${r}/cached
  curl -s -i ${r}/cached
  curl -s -i ${r}/admin
  curl -s -x ${f} ${ua}/through-the-forward-proxy
  curl -s -p -x ${f} ${ua}/through-a-connect-tunnel
  curl -s -i -x ${f} http://127.0.0.2:1/not-allowed
  curl -s ${a}/readyz
  curl -s ${a}/metrics
  curl -s -X POST -H 'authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"url":"${r}/cached"}' ${a}/purge

The first two answer from different upstreams; /cached says "Cache-Status: …hit" the second time;
/admin and 127.0.0.2 are denied (403). Ctrl-C stops the gateway gracefully.
`
}
