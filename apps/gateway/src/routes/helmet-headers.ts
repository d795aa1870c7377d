import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { FastifyInstance } from 'fastify'
import type { HelmetConfig } from '../config/security.js'
import { addHeadBlock, type HeadBlock, headBlock } from './response-head.js'

// A route's `helmet` headers, computed once when the route is built. @fastify/helmet calls
// `helmet(options)` in an onRequest hook on every request: it validates every option and composes every
// header's value again, which costs more than the rest of a proxied request (bench/RESULTS.md, issue 27).
// A config file's options are data, so the headers are the same for every request: helmet's own
// middleware is run once here on a recorder, and the hook replays what it did. Options that make a value
// depend on the request (a function, CSP nonces) keep the plugin. What it recorded goes into each
// answer's head as one prepared block of text (response-head.ts).

// Loaded by the first helmet config only (the config check runs helmetSteps too): a gateway without
// helmet never loads it. Synchronous, as the config check is.
const require = createRequire(import.meta.url)
let helmetModule: typeof import('helmet').default | undefined
const helmet = (options: HelmetConfig) => {
  helmetModule ??= (require('helmet') as { default: typeof import('helmet').default }).default
  return helmetModule(options)
}

/** One thing helmet's middleware did to the response: set `name` to `value`, or remove `name` (null). */
export interface HelmetStep {
  name: string
  value: string | null
}

function hasFunction(value: unknown): boolean {
  if (typeof value === 'function') return true
  if (value === null || typeof value !== 'object') return false
  for (const v of Object.values(value)) if (hasFunction(v)) return true
  return false
}

/**
 * What helmet's middleware sets and removes for `options`, in its order, or null when that can depend on
 * the request. Throws helmet's own error for an invalid option (at startup, not on the first request).
 */
export function helmetSteps(options: HelmetConfig): HelmetStep[] | null {
  if (hasFunction(options) || 'enableCSPNonces' in options) return null
  const steps: HelmetStep[] = []
  const recorder = {
    setHeader(name: string, value: unknown) {
      steps.push({ name, value: String(value) })
      return recorder
    },
    removeHeader(name: string) {
      steps.push({ name, value: null })
    },
  }
  let finished = false
  // The request is not read by any of helmet's middlewares but the CSP directive functions, ruled out.
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err
    finished = true
  })
  return finished ? steps : null
}

/**
 * The head block of `steps` as they act on a response holding no header yet (helmet's `onRequest`
 * hook, the first to touch it in the gateway): a name set twice keeps its first place and its last value,
 * as Node's `setHeader` keeps them, and a removal takes out what was set before it.
 */
export function helmetBlock(steps: HelmetStep[]): HeadBlock {
  const fields = new Map<string, [string, string]>()
  for (const s of steps) {
    const key = s.name.toLowerCase()
    if (s.value === null) fields.delete(key)
    else if (fields.has(key)) fields.get(key)![1] = s.value
    else fields.set(key, [s.name, s.value])
  }
  return headBlock([...fields.values()])
}

/**
 * Registers the route's helmet headers in `instance` (the route's own context): the recorded steps as one
 * head block (response-head.ts) on every answer the route's hooks have run for, from an onRequest hook
 * where @fastify/helmet sets them too, or the plugin itself when the options depend on the request.
 */
export async function registerHelmet(instance: FastifyInstance, options: HelmetConfig): Promise<void> {
  const steps = helmetSteps(options)
  if (steps === null) {
    const { default: plugin } = await import('@fastify/helmet')
    await instance.register(plugin, { ...options, global: true })
    return
  }
  const block = helmetBlock(steps)
  instance.addHook('onRequest', function helmetHeaders(request, reply, done) {
    addHeadBlock(request, reply.raw, block)
    done()
  })
}
