#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfigFile } from './config/parse.js'
import { maskSecurity } from './config/security.js'
import type { GatewayConfig } from './config/types.js'
import type { Demo } from './demo.js'

/**
 * Where a document the help names is: in the repository's docs/ when run from a checkout (the source; a
 * packed copy under apps/gateway/docs/ may be stale), else in the installed package's docs/.
 */
function docPath(name: string): string {
  const candidates = [
    new URL(`../../../../docs/${name}`, import.meta.url),
    new URL(`../../docs/${name}`, import.meta.url),
  ]
  const found = candidates.find((u) => existsSync(u))
  return found === undefined ? `docs/${name} in the proxykit repository` : fileURLToPath(found)
}

function version(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }
  return pkg.version
}

const help = () => `usage: proxykit-gateway [--config FILE] [--check] [--help] [--version]
       proxykit-gateway hash-password

  --config FILE   run from FILE (YAML, or JSON when it ends in .json)
  --check         validate FILE, print the resolved configuration as JSON (secrets as <set>),
                  exit 0 (valid) or 1
  --version       print the version
  --help          this text
  hash-password   read a password (prompted without echo, or piped on stdin) and print a bcrypt
                  hash for forward.auth.users

Signals (to the gateway's own process; with workers, to the primary):
  SIGHUP          reload: re-read FILE, validate it, swap in what changed without dropping a
                  connection (POST /reload on the admin listener does the same); an invalid file
                  changes nothing
  SIGTERM, SIGINT stop gracefully: in-flight requests and tunnels get shutdown.grace

workers: N (or "auto", one per core) in FILE starts a primary process and N workers sharing the
listeners; the admin listener runs in the primary.

Without --config the gateway runs its built-in demo: two demo upstreams behind the reverse
listener, a forward listener for loopback demo hosts and the admin listener, all on free
loopback ports, and prints curl commands to try.

Every config key: ${docPath('gateway-config.md')}
Running it (dashboard, reload, workers, systemd): ${docPath('operations.md')}
`

function maskPassword(raw: string): string {
  if (!URL.canParse(raw)) return raw
  const url = new URL(raw)
  if (url.password === '') return raw
  url.password = 'SET'
  return url.toString().replace(':SET@', ':<set>@')
}

/** The resolved config as --check prints it, every secret (token, passwords, their hashes) masked. */
function printable(config: GatewayConfig): string {
  const copy = structuredClone(config)
  if (copy.admin?.token) copy.admin.token = '<set>'
  if (copy.forward?.parent?.password) copy.forward.parent.password = '<set>'
  const users = copy.forward?.auth?.users
  if (users) for (const name of Object.keys(users)) users[name] = '<set>'
  // Redis URLs may carry a password (often from ${REDIS_PASSWORD} or a file).
  const conn = copy.redis?.connection as
    | { url?: string; cluster?: string[]; sentinels?: string[] }
    | undefined
  if (conn !== undefined) {
    if (conn.url !== undefined) conn.url = maskPassword(conn.url)
    if (conn.cluster !== undefined) conn.cluster = conn.cluster.map(maskPassword)
    if (conn.sentinels !== undefined) conn.sentinels = conn.sentinels.map(maskPassword)
  }
  for (const route of copy.reverse?.routes ?? []) maskSecurity(route)
  return JSON.stringify(copy, null, 2)
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'hash-password')
    return (await import('./hash-password.js')).hashPasswordCommand(argv.slice(1))
  let args: ReturnType<typeof parseOptions>
  try {
    args = parseOptions(argv)
  } catch (err) {
    process.stderr.write(`proxykit-gateway: ${(err as Error).message}\n\n${help()}`)
    return 2
  }
  if (args.help) {
    process.stdout.write(help())
    return 0
  }
  if (args.version) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (args.check && args.config === undefined) {
    process.stderr.write('proxykit-gateway: --check needs --config FILE\n')
    return 2
  }
  let config: GatewayConfig
  let demo: Demo | null = null
  // The plugins load only when something will run: --check and --help stay quick.
  const { demoBanner, demoConfig, startDemoUpstreams } = await import('./demo.js')
  try {
    if (args.config === undefined) {
      demo = await startDemoUpstreams()
      config = demoConfig(demo.upstreams)
    } else {
      config = await loadConfigFile(args.config)
      // Certificates are files too: --check reads them as the start would (readable, PEM, matching key).
      const { loadCertSet } = await import('./tls/certs.js')
      if (config.reverse?.tls) loadCertSet(config.reverse.tls, 'reverse.tls', args.config)
      if (config.forward?.tls) loadCertSet(config.forward.tls, 'forward.tls', args.config)
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`proxykit-gateway: ${err.message}\n`)
    return 1
  }
  if (args.check) {
    process.stdout.write(`${printable(config)}\n`)
    process.stderr.write(`proxykit-gateway: ${args.config} is valid\n`)
    return 0
  }
  // The operations layer (ops/): dashboard feed, hot reload on SIGHUP, worker processes.
  const { startOperated } = await import('./ops/run.js')
  const { flushLog, onShutdownSignal } = await import('./shutdown.js')
  const cluster = config.workers > 1 ? (await import('node:cluster')).default : null
  if (cluster?.isPrimary) {
    const { runPrimary } = await import('./ops/cluster.js')
    const primary = await runPrimary(config, args.config ?? null)
    onShutdownSignal(async (signal) => {
      primary.logger.info({ signal }, 'shutting down: draining every worker')
      await primary.close()
    }, primary.logger)
    return -1
  }
  let operated: Awaited<ReturnType<typeof startOperated>>
  try {
    operated = cluster?.isWorker
      ? await (await import('./ops/cluster-worker.js')).runWorker(config, args.config ?? null)
      : await startOperated(config, { configFile: args.config ?? null })
  } catch (err) {
    await demo?.close()
    process.stderr.write(`proxykit-gateway: cannot start: ${(err as Error).message}\n`)
    return 1
  }
  const gateway = operated.gateway
  if (demo !== null) {
    // After the lines logged so far (log-destination.ts buffers them), not before.
    await flushLog(gateway.logger)
    process.stdout.write(demoBanner(gateway, demo))
  }
  onShutdownSignal(async (signal) => {
    gateway.logger.info({ signal, graceMs: gateway.config.shutdown.graceMs }, 'shutting down')
    await operated.close()
    await demo?.close()
  }, gateway.logger)
  return -1 // keep running
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
    strict: true,
    allowPositionals: false,
  })
  return {
    config: values.config,
    check: values.check === true,
    help: values.help === true,
    version: values.version === true,
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (err) => {
    process.stderr.write(`proxykit-gateway: ${(err as Error).stack ?? err}\n`)
    process.exit(1)
  },
)
