import { randomBytes } from 'node:crypto'
import { Cluster, type Redis } from 'ioredis'

/** What the subscription tells the store that owns a local tier. */
export interface SubscriptionEvents {
  /** An invalidation from some instance (this one's included). */
  message(text: string): void
  /** Messages may have been missed: drop the local tier and stop trusting it. */
  lost(): void
  /** Messages flow again (this instance heard its own heartbeat): the tier may be trusted. */
  confirmed(): void
}

/**
 * The invalidation channel's subscription, watched end to end rather than through connection events.
 *
 * A connection's 'close' is not enough to know that messages stopped: a killed subscriber sometimes
 * emits none for seconds, and a cluster client's subscriber moves to another node by itself, silently,
 * when its node fails (messages published meanwhile are lost). So the subscription is a plain connection
 * of its own (to one node of a cluster, chosen here, so that its loss is seen; a primary, another one after a loss), and the store publishes a
 * numbered heartbeat on the channel through its ordinary client every `heartbeatMs`. The tier is trusted
 * only from the moment this instance hears its own heartbeat on the subscription, and dropped when the
 * connection goes, when a heartbeat is missing from the sequence (something published was lost), or when
 * none has been heard for three intervals (then the connection is replaced too: it may be half dead).
 */
export class InvalidationSubscription {
  readonly #client: Redis | Cluster
  readonly #channel: string
  readonly #heartbeatMs: number
  readonly #events: SubscriptionEvents
  /** Tells this instance's heartbeats from other instances'. */
  readonly #id = randomBytes(8).toString('base64url')
  #sent = 0
  /** The last own heartbeat heard (its number). */
  #heard = 0
  /** When the subscription last proved itself (a heartbeat heard) or was made: deaf for long, replaced. */
  #heardAt = 0
  #confirmed = false
  #conn: Redis | null = null
  /** The cluster node the last connection went to (the next one is another, when there is another). */
  #lastNode: string | null = null
  #timer: NodeJS.Timeout
  #retry: NodeJS.Timeout | null = null
  #closed = false

  constructor(client: Redis | Cluster, channel: string, heartbeatMs: number, events: SubscriptionEvents) {
    this.#client = client
    this.#channel = channel
    this.#heartbeatMs = heartbeatMs
    this.#events = events
    this.#timer = setInterval(() => this.#beat(), heartbeatMs)
    this.#timer.unref()
    this.#connect()
  }

  /** The node the subscription is on now (`host:port`), null while it is not connected. */
  get node(): string | null {
    const c = this.#conn
    return c === null || c.status !== 'ready' ? null : `${c.options.host}:${c.options.port}`
  }

  get confirmed(): boolean {
    return this.#confirmed
  }

  #connect(): void {
    if (this.#closed) return
    const conn = this.#newConnection()
    if (conn === null) {
      this.#later()
      return
    }
    this.#conn = conn
    this.#heardAt = Date.now()
    conn.on('error', () => {})
    const gone = () => {
      if (this.#conn !== conn) return
      this.#conn = null
      this.#lost()
      this.#later()
    }
    conn.once('close', gone)
    conn.once('end', gone)
    conn.on('message', (_channel: string, text: string) => {
      if (this.#conn === conn) this.#message(text)
    })
    conn.once('ready', () => {
      conn.subscribe(this.#channel).then(
        // Subscribed: the next own heartbeat heard confirms it; send one now rather than in a second.
        () => this.#publishBeat(),
        () => conn.disconnect(),
      )
    })
    conn.connect().catch(() => {})
  }

  /**
   * A connection that does not reconnect by itself (a new one is made here, to another node of a
   * cluster when there is one), does not resubscribe by itself, and queues the SUBSCRIBE it is given
   * while it connects.
   */
  #newConnection(): Redis | null {
    const own = {
      lazyConnect: true,
      retryStrategy: null,
      autoResubscribe: false,
      enableOfflineQueue: true,
      connectionName: 'proxykit-invalidation',
    }
    if (!(this.#client instanceof Cluster)) return this.#client.duplicate(own)
    // A primary: its failover is then the case the tier meets, not only a replica's restart.
    const nodes = this.#client.nodes('master')
    const others = nodes.filter((n) => `${n.options.host}:${n.options.port}` !== this.#lastNode)
    const pool = others.length > 0 ? others : nodes
    const node = pool[Math.floor(Math.random() * pool.length)]
    if (node === undefined) return null
    this.#lastNode = `${node.options.host}:${node.options.port}`
    return node.duplicate({ ...own, readOnly: false })
  }

  #later(): void {
    if (this.#closed || this.#retry !== null) return
    this.#retry = setTimeout(
      () => {
        this.#retry = null
        this.#connect()
      },
      Math.min(this.#heartbeatMs, 500),
    )
    this.#retry.unref()
  }

  #lost(): void {
    this.#confirmed = false
    this.#events.lost()
  }

  #message(text: string): void {
    if (!text.startsWith('h:')) {
      this.#events.message(text)
      return
    }
    const [, id, n] = text.split(':')
    if (id !== this.#id) return
    const seq = Number(n)
    if (!(seq > this.#heard)) return
    // A gap: a heartbeat published after the last one heard never came, and invalidations may not have.
    // The tier goes; the subscription evidently carries messages again, so it is trusted from now on.
    if (this.#confirmed && seq !== this.#heard + 1) this.#lost()
    this.#heard = seq
    this.#heardAt = Date.now()
    if (!this.#confirmed) {
      this.#confirmed = true
      this.#events.confirmed()
    }
  }

  #beat(): void {
    if (this.#conn !== null && Date.now() - this.#heardAt > 3 * this.#heartbeatMs) {
      if (this.#confirmed) this.#lost()
      // Connected (or connecting) but deaf: replace the connection.
      const conn = this.#conn
      this.#conn = null
      conn.disconnect()
      this.#connect()
    }
    this.#publishBeat()
  }

  #publishBeat(): void {
    if (this.#closed) return
    this.#sent++
    // Numbered in the order published; one that fails is a gap that the others' order reveals.
    this.#client.publish(this.#channel, `h:${this.#id}:${this.#sent}`).catch(() => {})
  }

  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    if (this.#retry !== null) clearTimeout(this.#retry)
    const conn = this.#conn
    this.#conn = null
    conn?.disconnect()
    this.#confirmed = false
  }
}
