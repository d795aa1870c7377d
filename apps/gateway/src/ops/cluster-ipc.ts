// The messages between the primary and its workers, and the primary's side of them: forking and
// replacing workers, knowing which are ready, asking them over IPC.
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { ControlError } from '../admin/controls.js'
import type { DenialEvent } from './live-stats.js'

const PREFIX = 'proxykit:'
export type Message =
  | { type: 'proxykit:ready' }
  | { type: 'proxykit:denial'; event: DenialEvent }
  | { type: 'proxykit:request'; id: number; op: string; args?: unknown }
  | { type: 'proxykit:response'; id: number; ok: boolean; value?: unknown; error?: string; status?: number }

export const isOurs = (m: unknown): m is Message =>
  typeof m === 'object' && m !== null && String((m as { type?: unknown }).type).startsWith(PREFIX)

/** Restarts in a burst before the primary waits before forking again (a worker failing at start). */
const RESTART_BURST = 5
const RESTART_WINDOW_MS = 10_000
const ASK_TIMEOUT_MS = 5_000

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

/**
 * The primary's side of the workers: forking and replacing them, knowing which are ready, and asking
 * them over IPC (one request id, one timeout per question).
 */
export class WorkerLink {
  closing = false
  private readonly readyWorkers = new Set<number>()
  private readonly pending = new Map<number, Pending>()
  private readonly readyWaiters: Array<() => void> = []
  private readonly restarts: number[] = []
  private nextId = 1

  constructor(
    private readonly logger: Logger,
    private readonly onDenial: (event: DenialEvent) => void,
  ) {
    cluster.on('exit', (w, code, signal) => this.onExit(w, code, signal))
  }

  fork(): Worker {
    const w = cluster.fork()
    w.on('message', (m: unknown) => this.onMessage(w, m))
    return w
  }

  workers(): Worker[] {
    return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
  }

  readyList(): Worker[] {
    return this.workers().filter((w) => this.readyWorkers.has(w.id) && w.isConnected())
  }

  /** Resolves once `n` workers have reported ready. */
  ready(n: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.readyList().length >= n) resolve()
        else this.readyWaiters.push(check)
      }
      check()
    })
  }

  ask<T>(w: Worker, op: string, args?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`worker ${w.process.pid} did not answer ${op} within ${ASK_TIMEOUT_MS} ms`))
      }, ASK_TIMEOUT_MS)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      try {
        w.send({ type: 'proxykit:request', id, op, args } satisfies Message)
      } catch (err) {
        clearTimeout(timer)
        this.pending.delete(id)
        reject(err as Error)
      }
    })
  }

  /** Asks every ready worker; rejects with the first failure. */
  askAll<T>(op: string, args?: unknown): Promise<T[]> {
    return Promise.all(this.readyList().map((w) => this.ask<T>(w, op, args)))
  }

  /** SIGTERM to every worker (each drains on its own), SIGKILL to those outliving `graceMs`. */
  async stopAll(graceMs: number): Promise<number> {
    this.closing = true
    const all = this.workers()
    const exits = all.map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))))
    for (const w of all) w.process.kill('SIGTERM')
    const hard = setTimeout(() => {
      for (const w of all) if (!w.isDead()) w.process.kill('SIGKILL')
    }, graceMs)
    await Promise.all(exits)
    clearTimeout(hard)
    for (const p of this.pending.values()) clearTimeout(p.timer)
    return all.length
  }

  private onMessage(w: Worker, m: unknown): void {
    if (!isOurs(m)) return
    if (m.type === 'proxykit:ready') {
      this.readyWorkers.add(w.id)
      this.logger.info(
        { event: 'worker-ready', worker: w.id, pid: w.process.pid },
        `worker ${w.process.pid} ready`,
      )
      for (const r of this.readyWaiters.splice(0)) r()
    } else if (m.type === 'proxykit:denial') this.onDenial(m.event)
    else if (m.type === 'proxykit:response') {
      const p = this.pending.get(m.id)
      if (p === undefined) return
      this.pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok) p.resolve(m.value)
      else p.reject(m.status === undefined ? new Error(m.error) : new ControlError(m.error ?? '', m.status))
    }
  }

  /** A dead worker is replaced, after a pause when they keep dying (a worker failing at start). */
  private onExit(w: Worker, code: number, signal: string): void {
    this.readyWorkers.delete(w.id)
    if (this.closing) return
    const now = Date.now()
    const restarts = this.restarts
    while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift()
    restarts.push(now)
    const delay = restarts.length > RESTART_BURST ? 2000 : 0
    this.logger.error(
      { event: 'worker-exit', worker: w.id, pid: w.process.pid, code, signal, restartInMs: delay },
      `worker ${w.process.pid} died (${signal ?? code}); starting a replacement`,
    )
    setTimeout(() => {
      if (!this.closing) this.fork()
    }, delay).unref()
  }
}
