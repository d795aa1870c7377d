import type { Socket } from 'node:net'

/**
 * Every connection's timeout, checked by one sweep instead of a timer each. A Node timer set per request
 * phase (connect, head, body, idle) is a large share of a proxied request's cost (`node bench/forward-proxy.mjs
 * instructions`); a deadline here is one store. The price is
 * precision: a deadline fires up to two ticks late (never early), a tick being a quarter of the shortest
 * timeout of any pool, between 10 ms and 1 s. The sweep runs only while connections exist, unref'd.
 */
export interface Expiring {
  /** When it expires (coarse clock, ms), or 0 for never. */
  deadline: number
  expire(): void
}

let now = Date.now()
let tick = 1_000
let timer: NodeJS.Timeout | null = null
const watched = new Set<Expiring>()

function sweep(): void {
  now = Date.now()
  for (const item of watched) if (item.deadline !== 0 && item.deadline <= now) item.expire()
}

function start(): void {
  now = Date.now()
  timer = setInterval(sweep, tick)
  timer.unref()
}

/** A deadline `ms` from now: at least `ms` later, at most two ticks more. */
export function deadlineIn(ms: number): number {
  return now + ms + tick
}

/** Starts checking `item`, whose pool's shortest timeout is `shortest` ms. */
export function watch(item: Expiring, shortest: number): void {
  const t = Math.max(10, Math.min(1_000, Math.floor(shortest / 4)))
  if (t < tick) {
    tick = t
    if (timer !== null) {
      clearInterval(timer)
      start()
    }
  }
  watched.add(item)
  if (timer === null) start()
}

export function unwatch(item: Expiring): void {
  watched.delete(item)
  if (watched.size === 0 && timer !== null) {
    clearInterval(timer)
    timer = null
  }
}

/**
 * Watches a pair of sockets (a tunnel) and calls `onIdle` once neither has read a byte for `idleMs`.
 * Activity is read from the sockets' byte counters once per tick, so relaying costs nothing per chunk:
 * a socket timeout re-arms its timer on every read and every write. Returns what stops the watch.
 */
export function watchIdle(a: Socket, b: Socket, idleMs: number, onIdle: () => void): () => void {
  const item: Expiring = {
    deadline: 0,
    expire() {
      const moved = a.bytesRead + b.bytesRead
      if (moved !== seen) {
        seen = moved
        since = now
      } else if (now - since >= idleMs) {
        unwatch(item)
        onIdle()
        return
      }
      item.deadline = deadlineIn(0)
    },
  }
  // Watched first: that sets the tick (and the clock, if the sweep was not running) the deadline uses.
  watch(item, idleMs)
  let seen = a.bytesRead + b.bytesRead
  // Silence counts from now exactly (the coarse clock may lag by a tick): never declared idle early.
  let since = Date.now()
  item.deadline = deadlineIn(0)
  return () => unwatch(item)
}
