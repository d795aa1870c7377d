// Launchers for the non-Node servers the scenarios compare against (nginx, HAProxy, Varnish, Squid,
// tinyproxy): each writes a temporary config into `dir` (a scenario's mkdtemp directory, removed by the
// scenario), listens on a free loopback port, runs in the foreground with one worker/thread, and is
// tracked by the harness (killed when the scenario exits, however it exits).
//
//   const p = await startNginx(dir, origin.port)   // { url, port, pid, rssMB(), cpuSeconds(), stop() }
//
// Check the binary with `hasCommand(BIN.nginx)` first: these resolve only once the port accepts.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuSecondsOf, rssMBOf, track } from './harness.mjs'

/** Where each server is expected (Debian/Ubuntu packages). */
export const BIN = {
  nginx: '/usr/sbin/nginx',
  haproxy: '/usr/sbin/haproxy',
  varnish: '/usr/sbin/varnishd',
  squid: '/usr/sbin/squid',
  tinyproxy: '/usr/bin/tinyproxy',
}

const START_TIMEOUT_MS = 20_000

/**
 * A fresh temporary directory (`prefix` + random) that every user may write, since Squid and Varnish
 * drop privileges: for the configs, pid files and caches. The scenario removes it when done.
 */
export function makeTempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  spawnSync('chmod', ['a+rwx', dir])
  return dir
}

/** A loopback port free right now (bound to port 0, then released), for servers that need one in their config. */
export async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects after `ms`, or when `gone()` turns true. */
export async function waitForPort(port, ms = START_TIMEOUT_MS, gone = () => false) {
  const end = Date.now() + ms
  while (Date.now() < end && !gone()) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1')
      c.once('connect', () => {
        c.destroy()
        resolve(true)
      })
      c.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(
    gone() ? `exited before listening on ${port}` : `nothing listened on ${port} within ${ms} ms`,
  )
}

/**
 * Spawns `cmd args` (stdout ignored, stderr inherited unless `stderr: 'ignore'`), waits until `port`
 * accepts, and resolves what `startProcess` does: `{ url, port, pid, rssMB(), cpuSeconds(), stop() }`.
 * When it does not come up, it is stopped and the promise rejects.
 */
export async function startExternal(cmd, args, port, { stderr = 'inherit' } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', stderr] })
  const stop = track(child)
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  child.once('error', () => {
    exited = true
  })
  try {
    await waitForPort(port, START_TIMEOUT_MS, () => exited)
  } catch (err) {
    await stop()
    throw new Error(`${cmd}: ${err.message}`)
  }
  const pid = child.pid
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    rssMB: () => rssMBOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    stop,
  }
}

/**
 * nginx as a reverse proxy to 127.0.0.1:`upstreamPort` (one worker, no master, keep-alive upstream).
 * With `cache: true`, a proxy_cache in front (64 MB) and a Cache-Status header ($upstream_cache_status).
 * With `tls: { cert, key }` (PEM files), HTTPS with HTTP/2 by ALPN, TLS 1.2 and 1.3, its session cache and
 * tickets off (every new connection is a full handshake, as a handshake benchmark needs) and no limit on
 * the requests of one keep-alive connection.
 * With `workers` over 1, a master process and that many workers (its CPU: treeCpuSecondsOf).
 */
export async function startNginx(dir, upstreamPort, { cache = false, tls = null, workers = 1 } = {}) {
  const port = await freePort()
  const listen =
    tls === null
      ? `listen 127.0.0.1:${port};`
      : `listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    keepalive_requests 1000000;`
  const conf = join(dir, 'nginx.conf')
  const proxy = 'proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";'
  const location = cache
    ? `location / {
      proxy_cache c;
      ${proxy}
      add_header Cache-Status $upstream_cache_status;
    }`
    : `location / { ${proxy} }`
  writeFileSync(
    conf,
    `worker_processes ${workers};
daemon off;
master_process ${workers > 1 ? 'on' : 'off'};
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log crit;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${cache ? `  proxy_cache_path ${dir}/cache keys_zone=c:10m max_size=64m;\n` : ''}  upstream origin { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    ${listen}
    ${location}
  }
}
`,
  )
  const started = await startExternal(BIN.nginx, ['-c', conf, '-p', dir], port)
  return tls === null ? started : { ...started, url: `https://127.0.0.1:${port}` }
}

/** HAProxy as a reverse proxy to 127.0.0.1:`upstreamPort` (one thread, keep-alive, connection reuse). */
export async function startHaproxy(dir, upstreamPort) {
  const port = await freePort()
  const conf = join(dir, 'haproxy.cfg')
  writeFileSync(
    conf,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend f
  bind 127.0.0.1:${port}
  default_backend b
backend b
  http-reuse always
  server s1 127.0.0.1:${upstreamPort}
`,
  )
  return startExternal(BIN.haproxy, ['-f', conf, '-db'], port)
}

/** Varnish caching 127.0.0.1:`upstreamPort`: one thread pool, a 64 MB malloc store, in the foreground. */
export async function startVarnish(dir, upstreamPort) {
  const port = await freePort()
  const args = ['-F', '-n', join(dir, 'varnish'), '-a', `127.0.0.1:${port}`]
  args.push('-b', `127.0.0.1:${upstreamPort}`, '-s', 'malloc,64m', '-p', 'thread_pools=1', '-j', 'none')
  return startExternal(BIN.varnish, args, port)
}

/** Squid as a caching accelerator (reverse proxy) for 127.0.0.1:`upstreamPort`: one worker, 64 MB memory cache. */
export async function startSquidCache(dir, upstreamPort) {
  const port = await freePort()
  const conf = join(dir, 'squid.conf')
  writeFileSync(
    conf,
    `http_port 127.0.0.1:${port} accel defaultsite=127.0.0.1 no-vhost
cache_peer 127.0.0.1 parent ${upstreamPort} 0 no-query originserver name=origin
http_access allow all
cache_peer_access origin allow all
cache_mem 64 MB
maximum_object_size_in_memory 1 MB
access_log none
cache_store_log none
cache_log ${dir}/squid-cache.log
pid_filename ${dir}/squid.pid
coredump_dir ${dir}
workers 1
shutdown_lifetime 0 seconds
`,
  )
  spawnSync('chmod', ['-R', 'a+rwx', dir])
  return startExternal(BIN.squid, ['-N', '-f', conf], port)
}

/** Squid as a forward proxy for loopback clients, caching off, one worker (its output is discarded). */
export async function startSquidForward(dir) {
  const port = await freePort()
  const conf = join(dir, 'squid.conf')
  writeFileSync(
    conf,
    [
      `http_port 127.0.0.1:${port}`,
      'http_access allow localhost',
      'http_access deny all',
      'cache deny all',
      'cache_mem 8 MB',
      'access_log none',
      'cache_store_log none',
      `cache_log ${join(dir, 'squid-cache.log')}`,
      'logfile_rotate 0',
      `pid_filename ${join(dir, 'squid.pid')}`,
      `coredump_dir ${dir}`,
      'visible_hostname bench-squid',
      'forwarded_for delete',
      'via off',
      'shutdown_lifetime 0 seconds',
      'workers 1',
      'dns_nameservers 127.0.0.1',
      'max_filedescriptors 4096',
      '',
    ].join('\n'),
  )
  spawnSync('chmod', ['-R', 'a+rwx', dir])
  return startExternal(BIN.squid, ['-N', '-f', conf], port, { stderr: 'ignore' })
}

/** tinyproxy as a forward proxy for 127.0.0.1, CONNECT allowed to `connectPorts` only (its output is discarded). */
export async function startTinyproxy(dir, connectPorts) {
  const port = await freePort()
  const conf = join(dir, 'tinyproxy.conf')
  writeFileSync(
    conf,
    [
      'User nobody',
      'Group nogroup',
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 600',
      'MaxClients 1024',
      'Allow 127.0.0.1',
      ...connectPorts.map((port) => `ConnectPort ${port}`),
      'LogLevel Critical',
      'DisableViaHeader Yes',
      '',
    ].join('\n'),
  )
  return startExternal(BIN.tinyproxy, ['-d', '-c', conf], port, { stderr: 'ignore' })
}
