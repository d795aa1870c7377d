// The proxy pipeline as data: which phase runs in which Fastify hook, which package owns it, and when it
// may answer and stop the request. Fastify runs hooks by kind in its lifecycle order (onRequest →
// preHandler → handler → onSend → onResponse), so a plugin that takes its hook from this table (see
// `phaseHook`) runs in the place the table gives it, whatever order the app registers the plugins in.
// docs/architecture.md's phase table is checked against this one (test/phase-table-docs.test.ts).

/** Where a phase runs: a Fastify hook, or one of the steps proxykit runs itself. */
export type PhaseHook =
  /** node:http server listeners, before Fastify routes the request. */
  | 'server'
  | 'onRequest'
  | 'preHandler'
  /** The route handler. */
  | 'handler'
  /** Core's response path (`relay`, `sendUpstreamResponse`, `sendError`), before the head is written. */
  | 'relay'
  /** Writing the head of any answer: a proxied one, a cache hit, a proxy's own error. */
  | 'answer'
  | 'onSend'
  | 'onResponse'

/** The packages of this repository, by folder name. */
export type PhaseOwner = 'core' | 'access-control' | 'cache' | 'forward-proxy' | 'reverse-proxy' | 'gateway'

export interface Phase {
  readonly name: string
  readonly hook: PhaseHook
  /** Who may register it; a plugin answers early only in a phase of its own. */
  readonly owners: readonly PhaseOwner[]
  /** When it answers and ends the pipeline there ('never': it always lets the request go on). */
  readonly shortCircuit: string
}

/** The phases, in the order they run. */
export const PHASES = [
  {
    name: 'bridge',
    hook: 'server',
    owners: ['forward-proxy', 'reverse-proxy'],
    shortCircuit: 'never: moves absolute-form, CONNECT and upgrade requests onto a route Fastify can match',
  },
  {
    name: 'classify',
    hook: 'onRequest',
    owners: ['core'],
    shortCircuit: '400 for a malformed request-target, Host or Transfer-Encoding',
  },
  {
    name: 'admit',
    hook: 'onRequest',
    owners: ['gateway'],
    shortCircuit: "403 for a refused client address, a route's redirect, 413 over a route's body limit",
  },
  {
    name: 'access',
    hook: 'onRequest',
    owners: ['access-control'],
    shortCircuit: '401, 403, 407 or 429',
  },
  {
    name: 'lookup',
    hook: 'preHandler',
    owners: ['cache'],
    shortCircuit: 'a hit, answered from the store',
  },
  {
    name: 'forward',
    hook: 'handler',
    owners: ['forward-proxy', 'reverse-proxy'],
    shortCircuit: 'its own error (400, 403, 501, 502, 503, 504, 508) when no upstream answer can be relayed',
  },
  {
    name: 'pre-cache',
    hook: 'relay',
    owners: ['forward-proxy', 'reverse-proxy', 'cache'],
    shortCircuit: 'never; the cache may replace the answer (304 from a revalidated entry, stale-if-error)',
  },
  {
    name: 'post-cache',
    hook: 'answer',
    owners: ['core', 'cache', 'gateway'],
    shortCircuit: 'never',
  },
  {
    name: 'store-plain',
    hook: 'onSend',
    owners: ['cache'],
    shortCircuit: 'never',
  },
  {
    name: 'log',
    hook: 'onResponse',
    owners: ['gateway'],
    shortCircuit: 'never: runs for every answer, hits, denials and errors included',
  },
] as const satisfies readonly Phase[]

export type PhaseName = (typeof PHASES)[number]['name']
type PhaseOf<N extends PhaseName> = Extract<(typeof PHASES)[number], { name: N }>

/** Fastify's lifecycle order of the places a phase can run in. */
export const HOOK_ORDER: readonly PhaseHook[] = [
  'server',
  'onRequest',
  'preHandler',
  'handler',
  'relay',
  'answer',
  'onSend',
  'onResponse',
]

/** The phase called `name`. */
export function phase<N extends PhaseName>(name: N): PhaseOf<N> {
  return PHASES.find((p) => p.name === name) as PhaseOf<N>
}

/**
 * The Fastify hook `owner` registers phase `name` in: `fastify.addHook(phaseHook('access', 'access-control'),
 * fn)`. Throws when the table does not give that phase to `owner` (a plugin hooking into another's
 * phase is a bug, caught at registration).
 */
export function phaseHook<N extends PhaseName>(name: N, owner: PhaseOwner): PhaseOf<N>['hook'] {
  const p = phase(name)
  if (!(p.owners as readonly PhaseOwner[]).includes(owner))
    throw new Error(`@proxykit/core: phase '${name}' belongs to ${p.owners.join(', ')}, not ${owner}`)
  return p.hook as PhaseOf<N>['hook']
}
