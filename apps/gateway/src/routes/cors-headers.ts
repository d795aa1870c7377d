import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { CorsConfig } from '../config/security.js'
import { addHookedFields, type HeadBlock, headBlock } from './response-head.js'

// A route's `cors` (@fastify/cors). Its onRequest hook, on every request, reads `request.routeOptions`
// (a new frozen object) twice, spreads its dozen options into a new object, makes two closures and looks
// at the Vary header the reply holds, to set the same two or three headers (bench/RESULTS.md, issue 27).
// A config file's options are data (origins as strings, no function), so for any request but a
// preflight those headers depend on nothing but the request's Origin: they are recorded here from the
// plugin itself, by asking it once per case (each listed origin, another origin, none) on a throwaway
// app, and the route's hook replays what it did. Preflights (OPTIONS), and a reply that holds a Vary
// header already (the plugin adds to it), go to the plugin's own hook, which is registered as always
// (its OPTIONS route too) but called by ours.

// An origin no config lists (checked): its answer is that of every origin the config does not list, and
// where the plugin reflects the request's Origin, it shows where.
const PROBE = 'http://proxykit-cors-probe.invalid'

type Fields = ReadonlyArray<readonly [string, string]>

/** A case's fields, and the same as a head block (null where Node would refuse one of them). */
interface Case {
  fields: Fields
  block: HeadBlock | null
}

function recordedCase(fields: Fields): Case {
  if (fields.length === 0) return { fields, block: null }
  try {
    return { fields, block: headBlock(fields) }
  } catch {
    return { fields, block: null }
  }
}

interface Recorded {
  /** A request without Origin. */
  none: Fields
  /** The origins listed in the config. */
  listed: ReadonlyMap<string, Fields>
  /** Any other Origin. */
  other: Fields
  /** `echo[i]`: the value of `other[i]` is the request's Origin. */
  echo: readonly boolean[]
}

function pluginOptions(c: CorsConfig): Record<string, unknown> {
  return {
    origin: c.origin,
    credentials: c.credentials,
    strictPreflight: c.strictPreflight,
    ...(c.methods === null ? {} : { methods: c.methods }),
    ...(c.allowedHeaders === null ? {} : { allowedHeaders: c.allowedHeaders }),
    ...(c.exposedHeaders === null ? {} : { exposedHeaders: c.exposedHeaders }),
    ...(c.maxAge === null ? {} : { maxAge: c.maxAge }),
  }
}

/** What the plugin sets on a GET's reply for each case, in its order (the names as it stores them). */
async function record(c: CorsConfig, plugin: typeof import('@fastify/cors').default): Promise<Recorded> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  try {
    await app.register(plugin, pluginOptions(c))
    app.get('/', (_request, reply) => {
      reply.send(Object.entries(reply.getHeaders()).map(([n, v]) => [n, String(v)]))
    })
    const ask = async (origin: string | undefined): Promise<Array<[string, string]>> => {
      const res = await app.inject({
        method: 'GET',
        url: '/',
        headers: origin === undefined ? {} : { origin },
      })
      if (res.statusCode !== 200) throw new Error(`@fastify/cors answered ${res.statusCode} for a GET`)
      return res.json() as Array<[string, string]>
    }
    const listed = new Map<string, Fields>()
    for (const o of typeof c.origin === 'string' ? [c.origin] : Array.isArray(c.origin) ? c.origin : [])
      if (o !== PROBE) listed.set(o, await ask(o))
    const other = await ask(PROBE)
    return { none: await ask(undefined), listed, other, echo: other.map(([, v]) => v === PROBE) }
  } finally {
    await app.close()
  }
}

// One recording per distinct config: a listener default shared by many routes is asked once.
const recordings = new Map<string, Promise<Recorded>>()

// Set on the reply as the plugin sets them, so that every later reader (a hook, the Vary join with the
// answer's own, Fastify's send) sees them as before; where they reach the head unchanged, they are
// written as prepared text (response-head.ts).
function replay(request: FastifyRequest, reply: FastifyReply, c: Case): void {
  const fields = c.fields
  for (let i = 0; i < fields.length; i++) reply.header(fields[i]![0], fields[i]![1])
  if (c.block !== null) addHookedFields(request, reply.raw, c.block)
}

/** Registers the route's CORS in `instance` (the route's own context): the plugin, and the hook above. */
export async function registerCors(instance: FastifyInstance, c: CorsConfig): Promise<void> {
  const { default: plugin } = await import('@fastify/cors')
  // The plugin's hook is taken as it adds it (fastify-plugin: it is registered on this very instance),
  // to be called by ours for the cases not recorded.
  let pluginHook: onRequestHookHandler | null = null
  const own = Object.hasOwn(instance, 'addHook')
  const addHook = instance.addHook
  instance.addHook = function (this: FastifyInstance, name: string, hook: unknown) {
    if (name === 'onRequest' && pluginHook === null) {
      pluginHook = hook as onRequestHookHandler
      return this
    }
    return (addHook as (n: string, h: unknown) => FastifyInstance).call(this, name, hook)
  } as FastifyInstance['addHook']
  try {
    await instance.register(plugin, pluginOptions(c))
  } finally {
    if (own) instance.addHook = addHook
    else delete (instance as { addHook?: unknown }).addHook
  }
  if (pluginHook === null) throw new Error('@fastify/cors added no onRequest hook')
  const theirs: onRequestHookHandler = pluginHook
  const key = JSON.stringify(pluginOptions(c))
  let recorded = recordings.get(key)
  if (recorded === undefined) {
    recorded = record(c, plugin)
    recordings.set(key, recorded)
  }
  const found = await recorded
  const { other, echo } = found
  const none = recordedCase(found.none)
  const listed = new Map([...found.listed].map(([o, fields]) => [o, recordedCase(fields)]))
  const hasEcho = echo.includes(true)
  const others = recordedCase(other)
  instance.addHook('onRequest', function cors(this: FastifyInstance, request: FastifyRequest, reply, done) {
    if (request.raw.method === 'OPTIONS' || reply.hasHeader('vary'))
      return theirs.call(this, request, reply, done)
    const origin = request.headers.origin
    if (origin === undefined) replay(request, reply, none)
    else {
      const fields = listed.get(origin)
      if (fields !== undefined) replay(request, reply, fields)
      else if (!hasEcho) replay(request, reply, others)
      else for (let i = 0; i < other.length; i++) reply.header(other[i]![0], echo[i] ? origin : other[i]![1])
    }
    done()
  })
}
