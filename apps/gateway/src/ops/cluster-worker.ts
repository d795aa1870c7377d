// `workers: N`, a worker's side: the forward and reverse listeners (the primary's admin listener covers
// them all), answering the primary's questions over IPC.
import type { UpstreamControls } from '../admin/controls.js'
import { ControlError } from '../admin/controls.js'
import type { GatewayConfig } from '../config/types.js'
import { isOurs, type Message } from './cluster-ipc.js'
import { type OperatedGateway, startOperated } from './run.js'

/** Runs one worker: the data listeners, answering the primary's requests over IPC. */
export async function runWorker(config: GatewayConfig, configFile: string | null): Promise<OperatedGateway> {
  const send = (m: Message) => {
    if (process.connected) process.send?.(m)
  }
  // A SIGHUP meant for the primary (a process-group signal) must not end a worker: reloads come over IPC.
  process.on('SIGHUP', () => {})
  const withoutAdmin = (c: GatewayConfig): GatewayConfig => ({ ...c, admin: null })
  const operated = await startOperated(withoutAdmin(config), {
    configFile,
    sighup: false,
    admin: false,
    adapt: withoutAdmin,
    onDenial: (event) => send({ type: 'proxykit:denial', event }),
    // The primary's admin listener is this worker's own too: never a destination of its forward proxy,
    // from the first connection on.
    ownAddresses:
      config.admin === null ? [] : [{ address: config.admin.listen.host, port: config.admin.listen.port }],
  })
  const { gateway } = operated
  const ops: Record<string, (args: any) => unknown> = {
    metrics: () => gateway.metrics.registry.getMetricsAsJSON(),
    readiness: () => gateway.controls.readiness(),
    purge: (what) => {
      if (gateway.controls.purge === undefined) throw new ControlError('purge is not available', 501)
      return gateway.controls.purge(what)
    },
    upstreams: ({ method, args }: { method: keyof UpstreamControls; args: unknown[] }) => {
      const u = gateway.controls.upstreams
      if (u === undefined) throw new ControlError('upstream management is not available', 501)
      return (u[method] as (...a: unknown[]) => unknown)(...args)
    },
    reload: () => operated.reload(),
  }
  process.on('message', (m: unknown) => {
    if (!isOurs(m) || m.type !== 'proxykit:request') return
    const op = ops[m.op]
    Promise.resolve()
      .then(() => {
        if (op === undefined) throw new Error(`unknown operation ${m.op}`)
        return op(m.args)
      })
      .then(
        (value) => send({ type: 'proxykit:response', id: m.id, ok: true, value: value ?? null }),
        (err: Error) =>
          send({
            type: 'proxykit:response',
            id: m.id,
            ok: false,
            error: err.message,
            ...(err instanceof ControlError ? { status: err.statusCode } : {}),
          }),
      )
  })
  send({ type: 'proxykit:ready' })
  return operated
}
