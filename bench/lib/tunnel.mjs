// The CONNECT-tunnel load generator shared by the forward-proxy and gateway-peers scenarios: wrk cannot
// open tunnels, so lib/tunnel-load.c (wrk's shape: one thread, epoll) is compiled into the run's temp dir.
import { execFile, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { hasCommand } from './harness.mjs'

const execFileAsync = promisify(execFile)

/** Compiles lib/tunnel-load.c into `dir`; its path, or null when there is no C compiler. */
export function buildTunnelLoader(dir) {
  if (!hasCommand('cc')) return null
  const out = join(dir, 'tunnel-load')
  const source = fileURLToPath(new URL('./tunnel-load.c', import.meta.url))
  const r = spawnSync('cc', ['-O2', '-o', out, source], { encoding: 'utf8' })
  if (r.status !== 0) {
    console.error(`[bench] cc failed: ${r.stderr.trim()}`)
    return null
  }
  return out
}

/**
 * Back-to-back GETs inside `connections` long-lived tunnels through the proxy on `proxyPort` to the
 * origin on `originPort`, for `duration` seconds, by the compiled loader. Asynchronous, so the caller
 * can sample the proxy meanwhile. Resolves `{ rps, p50, p99, errors, requests }`.
 */
export async function nativeTunnelLoad(loader, proxyPort, originPort, connections, duration) {
  const args = [proxyPort, originPort, connections, duration].map(String)
  const { stdout } = await execFileAsync(loader, args, { timeout: (duration + 30) * 1000 })
  const { rps, p50, p99, errors, requests } = JSON.parse(stdout)
  return { rps, p50, p99, errors, requests }
}
