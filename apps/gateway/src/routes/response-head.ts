import {
  type OutgoingHttpHeaders,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http'
import type { FastifyRequest } from 'fastify'
import { headUnwritten, insertIntoHead } from '../internals.js'
import { applyHeaderRules, type CompiledHeaderRules, headersObject } from './headers.js'

// What a route adds to the head of each of its answers, whoever writes it: the proxy on `reply.raw`,
// Fastify's own send (an `onSend` path, an error, a redirect), a cache hit, a static file. Every one of
// them ends in this response's `writeHead` (Node's implicit head calls it too), so that is where it goes,
// once: the `headers.response` rules (headers.ts), a block of fields that are the same on every
// answer (helmet's, helmet-headers.ts), and the fields a hook recorded for this request (CORS's,
// cors-headers.ts) when nothing changed them since.
//
// The block is written into the head as one piece of text, prepared and validated when the route is
// built. Set with `setHeader()` per request, its dozen fields were each validated and stored by Node, and
// having any header set that way sends every other field of the answer through `setHeader()` too (Node's
// "progressive" head): about half a bare proxied request's instructions (bench/RESULTS.md, issue 27).

/** Fields that are the same on every answer of a route, prepared once. */
export interface HeadBlock {
  /** Name (as spelled) and value, in order. */
  readonly fields: ReadonlyArray<readonly [string, string]>
  /** The names, lower case. */
  readonly names: ReadonlySet<string>
  /** `lengths[n]`: some name is n characters long (a name of another length is none of them). */
  readonly lengths: readonly boolean[]
  /** The fields as Node writes them in an HTTP/1.1 head: `Name: value\r\n` each, in order. */
  readonly text: string
}

/** A block of `fields` (name as spelled, value); throws Node's own error for a field it would refuse. */
export function headBlock(fields: ReadonlyArray<readonly [string, string]>): HeadBlock {
  const names = new Set<string>()
  const lengths: boolean[] = []
  let text = ''
  for (const [name, value] of fields) {
    validateHeaderName(name)
    validateHeaderValue(name, value)
    const lower = name.toLowerCase()
    if (names.has(lower)) throw new Error(`${name}: one field per name in a head block`)
    names.add(lower)
    lengths[name.length] = true
    text += `${name}: ${value}\r\n`
  }
  return { fields, names, lengths, text }
}

function inBlock(block: HeadBlock, name: string): boolean {
  return block.names.has(name) || (block.lengths[name.length] === true && block.names.has(name.toLowerCase()))
}

interface HeadState {
  request: FastifyRequest
  rules: CompiledHeaderRules | null
  block: HeadBlock | null
  /** Fields a hook set on the reply (CORS's), validated when recorded: written as text when unchanged. */
  hooked: HeadBlock | null
  /** The response's own `writeHead`, put back on the first call. */
  writeHead: ServerResponse['writeHead']
}

const kHead = Symbol('proxykit.gateway.responseHead')
type Response = ServerResponse & { [kHead]?: HeadState }

function headState(request: FastifyRequest, res: Response): HeadState {
  let state = res[kHead]
  if (state === undefined) {
    state = { request, rules: null, block: null, hooked: null, writeHead: res.writeHead }
    res[kHead] = state
    res.writeHead = writeRouteHead as ServerResponse['writeHead']
  }
  return state
}

/** `headers.response` rules for this request's answer (installed before access control: 401s get them). */
export function addResponseRules(
  request: FastifyRequest,
  res: ServerResponse,
  rules: CompiledHeaderRules,
): void {
  headState(request, res).rules = rules
}

/** `block` on this request's answer (installed where the route's own hooks run). */
export function addHeadBlock(request: FastifyRequest, res: ServerResponse, block: HeadBlock): void {
  headState(request, res).block = block
}

/**
 * `fields` (lower-case names, as Fastify's reply keeps them) are what a hook of the route set on this
 * request's reply with `reply.header()`; they reach writeHead in its `headers` object like any other,
 * merged by whoever writes the answer (core's `mergeHookHeaders`, Vary joined). Where one still has the
 * value recorded here, it goes into the head as prepared text instead: Node validating and copying each
 * such field costs more than the rest of what the hook does (bench/RESULTS.md, issue 27).
 */
export function addHookedFields(request: FastifyRequest, res: ServerResponse, fields: HeadBlock): void {
  headState(request, res).hooked = fields
}

/**
 * The lines of the `hooked` fields that `headers` (writeHead's object, changed in place) holds with their
 * recorded value, taken out of it. A field changed since (a Vary joined with the answer's own, a value a
 * later hook set) stays, for Node to write as always.
 */
function takeHooked(headers: OutgoingHttpHeaders, hooked: HeadBlock): string {
  const fields = hooked.fields
  let all = true
  for (let i = 0; i < fields.length; i++)
    if (headers[fields[i]![0]] !== fields[i]![1]) {
      all = false
      break
    }
  // Last set, first deleted: a delete of an object's newest property keeps it a fast object.
  if (all) {
    for (let i = fields.length - 1; i >= 0; i--) delete headers[fields[i]![0]]
    return hooked.text
  }
  let text = ''
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!
    if (headers[name] === value) {
      delete headers[name]
      text += `${name}: ${value}\r\n`
    }
  }
  return text
}

/**
 * The answer's own fields (writeHead's `headers` argument: an object, a flat array, or none) without the
 * block's names: on a conflict the block wins, as a hook's header wins over the response's (core's
 * `mergeHookHeaders`). An object is changed in place (every writer hands in one made for this answer); an
 * array is copied when it has one of the names (a cache hit's head is shared by the entry's hits).
 */
function withoutBlockNames(headers: unknown, block: HeadBlock): unknown {
  if (Array.isArray(headers)) {
    let conflict = false
    for (let i = 0; i < headers.length; i += 2)
      if (typeof headers[i] === 'string' && inBlock(block, headers[i])) conflict = true
    if (!conflict) return headers
    const kept: unknown[] = []
    for (let i = 0; i < headers.length; i += 2)
      if (typeof headers[i] !== 'string' || !inBlock(block, headers[i])) kept.push(headers[i], headers[i + 1])
    return kept
  }
  if (headers !== null && typeof headers === 'object') {
    const own = headers as OutgoingHttpHeaders
    for (const name in own) if (inBlock(block, name)) delete own[name]
  }
  return headers
}

function writeRouteHead(this: Response, statusCode: number, reason?: unknown, headers?: unknown) {
  const state = this[kHead]!
  const writeHead = state.writeHead as (s: number, r?: unknown, h?: unknown) => ServerResponse
  this.writeHead = state.writeHead
  const { block, rules, hooked } = state
  if (rules !== null) return writeWithRules(this, state, rules, writeHead, statusCode, reason, headers)
  const explicit = typeof reason === 'string'
  const given = explicit ? headers : reason
  const own = block === null ? given : withoutBlockNames(given, block)
  // An HTTP/1.1 response whose head is not written yet and that holds no header of its own (the usual
  // case: nothing in the gateway sets headers on `reply.raw`): the block goes in as text, right after the
  // status line, where Node would have written it had it been set first; then the hooks' unchanged
  // fields, which Node would have written first of the `headers` object's (a hook sets them before
  // anything else of the reply's).
  if (headUnwritten(this) && this.getHeaderNames().length === 0) {
    const hookedText =
      hooked !== null && own !== null && typeof own === 'object' && !Array.isArray(own)
        ? takeHooked(own as OutgoingHttpHeaders, hooked)
        : ''
    const out = explicit
      ? writeHead.call(this, statusCode, reason, own)
      : writeHead.call(this, statusCode, own)
    const text = block === null ? hookedText : block.text + hookedText
    if (text !== '') insertIntoHead(this, text)
    return out
  }
  if (block === null) return writeHead.call(this, statusCode, reason, headers)
  // Otherwise (HTTP/2, or a header set on the response directly) through Node's API: a field the
  // response already holds was set by a hook after the block's and stays, as it did when the block was
  // set in `onRequest`.
  for (const [name, value] of block.fields) if (!this.hasHeader(name)) this.setHeader(name, value)
  return explicit ? writeHead.call(this, statusCode, reason, own) : writeHead.call(this, statusCode, own)
}

/** With `headers.response` rules: the block set on the response first, then the rules over both. */
function writeWithRules(
  res: Response,
  state: HeadState,
  rules: CompiledHeaderRules,
  writeHead: (s: number, r?: unknown, h?: unknown) => ServerResponse,
  statusCode: number,
  reason: unknown,
  given: unknown,
): ServerResponse {
  if (state.block !== null) {
    const own = withoutBlockNames(typeof reason === 'string' ? given : reason, state.block)
    if (typeof reason === 'string') given = own
    else reason = own
    for (const [name, value] of state.block.fields) if (!res.hasHeader(name)) res.setHeader(name, value)
  }
  const explicit = typeof reason === 'string'
  const headers = headersObject(explicit ? given : reason)
  applyHeaderRules(headers, rules, state.request, res)
  return explicit
    ? writeHead.call(res, statusCode, reason, headers)
    : writeHead.call(res, statusCode, headers)
}
