import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { Listener } from '../listeners/app.js'

// Hot reload without dropping a connection: the listening socket never changes hands. The first
// generation's Fastify instance owns the bound server (the "front"); a reload builds a new Fastify
// instance for the new config (never listening: its own http.Server is only an event target) and the
// front dispatches every later 'request', 'connect' and 'upgrade' to the current generation's server.
// Requests already running finish in the generation that took them; a retired generation is closed once
// it has nothing in flight (CONNECT tunnels and WebSockets included).

// 'checkContinue' is left alone: with no listener Node answers 100 Continue and emits 'request'.
const EVENTS = ['request', 'connect', 'upgrade'] as const

type AnyListener = (...args: unknown[]) => void

function unhandled(event: (typeof EVENTS)[number], args: unknown[]): void {
  // What Node does when nobody listens: drop CONNECT/upgrade sockets, continue or refuse expectations.
  if (event === 'connect' || event === 'upgrade') (args[1] as Socket).destroy()
}

/**
 * One listener across reloads: the Listener object the gateway holds (generation 0, bound) keeps its
 * identity, and its `inFlight`, `idle()` and `closing` cover every generation still alive, so a graceful
 * shutdown after a reload still waits for every in-flight request.
 */
export class Front {
  readonly name: string
  readonly front: Listener
  readonly server: Server
  #current: Listener
  readonly #live = new Set<Listener>()
  readonly #logger: Logger
  #dispatching = false
  #gen0Idle: (() => Promise<void>) | null = null

  constructor(front: Listener, logger: Logger) {
    this.name = front.name
    this.front = front
    this.server = front.app.server
    this.#current = front
    this.#logger = logger
    this.#live.add(front)
  }

  get current(): Listener {
    return this.#current
  }

  /** Generations still alive (the current one and retired ones still finishing requests). */
  get generations(): number {
    return this.#live.size
  }

  #takeOver(): void {
    if (this.#dispatching) return
    this.#dispatching = true
    // Generation 0's own handlers move off the bound server onto a plain emitter role: from now on the
    // front only forwards. (Its 'connection' and 'clientError' listeners stay: socket tracking.)
    const gen0 = this.front
    const own = new Map<string, AnyListener[]>()
    for (const ev of EVENTS) {
      const all = this.server.listeners(ev) as AnyListener[]
      own.set(ev, all)
      for (const l of all) this.server.removeListener(ev, l)
    }
    const server = this.server
    const gen0Emitter = {
      emit(ev: string, ...args: unknown[]) {
        for (const l of own.get(ev) ?? []) l.apply(server, args)
      },
    }
    const gen0Count = (ev: string) => own.get(ev)?.length ?? 0
    for (const ev of EVENTS) {
      this.server.on(ev, (...args: unknown[]) => {
        const target = this.#current
        if (target === gen0) {
          if (gen0Count(ev) === 0) return unhandled(ev, args)
          gen0Emitter.emit(ev, ...args)
          return
        }
        const s = target.app.server
        if (s.listenerCount(ev) === 0) return unhandled(ev, args)
        s.emit(ev, ...args)
      })
    }
    // The gateway's shutdown closes the front's Listener: its idle() and closing speak for every
    // generation from now on (inFlight stays generation 0's own counter, which its hooks update).
    const live = this.#live
    const ownIdle = gen0.idle
    this.#gen0Idle = ownIdle
    gen0.idle = () => Promise.all([...live].map((l) => (l === gen0 ? ownIdle() : l.idle()))).then(() => {})
    let closing = gen0.closing
    Object.defineProperty(gen0, 'closing', {
      configurable: true,
      enumerable: true,
      get: () => closing,
      set: (v: boolean) => {
        closing = v
        if (v) for (const l of live) if (l !== gen0) l.closing = true
      },
    })
  }

  /** Makes `next` (built, ready, not listening) take every new request. */
  swap(next: Listener): Listener {
    this.#takeOver()
    const previous = this.#current
    this.#live.add(next)
    next.address = this.front.address
    next.url = this.front.url
    next.sockets = this.front.sockets
    // A reload racing a shutdown: the new generation closes its keep-alive connections too.
    if (this.front.closing) next.closing = true
    this.#current = next
    return previous
  }

  /** Closes a retired generation once it has nothing in flight. */
  async retire(old: Listener): Promise<void> {
    if (old === this.#current) return
    const waiting = old.inFlight
    if (waiting > 0)
      this.#logger.info(
        { listener: this.name, inFlight: waiting },
        'reload: previous configuration finishing its requests',
      )
    await (old === this.front && this.#gen0Idle !== null ? this.#gen0Idle() : old.idle())
    if (!this.#live.has(old)) return
    this.#live.delete(old)
    await closeWithoutServer(old)
  }

  /** Closes every generation but the front (which the gateway's own shutdown closes). */
  async closeGenerations(): Promise<void> {
    const others = [...this.#live].filter((l) => l !== this.front)
    for (const l of others) this.#live.delete(l)
    await Promise.all(others.map((l) => l.app.close().catch(() => {})))
  }
}

/**
 * Closes generation 0's Fastify instance (its plugins: health checks, pools, timers) while its server,
 * the front, keeps listening for the generations after it: Fastify's close would close the server, so
 * that one call is answered without closing it.
 */
async function closeWithoutServer(listener: Listener): Promise<void> {
  const server = listener.app.server
  if (!server.listening) {
    await listener.app.close()
    return
  }
  const close = server.close
  server.close = function keepListening(cb?: (err?: Error) => void) {
    server.close = close
    if (cb) process.nextTick(cb)
    return server
  } as typeof server.close
  try {
    await listener.app.close()
  } finally {
    server.close = close
  }
}
