// The schema of the keys that guard and shape a reverse route's answers (issue 27 items 3-5): `cors`,
// `helmet`, `compress`, `auth` and `rules`, each on a route and as a default on `reverse` (`rules` also on
// `forward`). Kept apart from schema.ts so that it reads in one sitting; schema.ts spreads these in.
// Long on purpose: it is data, the five keys' schemas with the descriptions the config reference prints.

type Schema = Record<string, unknown>

const object = (description: string, properties: Record<string, Schema>, required: string[] = []) => ({
  type: 'object',
  description,
  properties,
  required,
  additionalProperties: false,
})

const TOKEN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
const names = (description: string): Schema => ({
  type: 'array',
  items: { type: 'string', pattern: TOKEN },
  description,
})
const strings = (description: string, items: Schema = { type: 'string', minLength: 1 }): Schema => ({
  type: 'array',
  items,
  description,
})
const oneOrMany = (description: string): Schema => ({
  type: ['string', 'array'],
  minLength: 1,
  items: { type: 'string', minLength: 1 },
  description,
})
/** `true`/`false`, or an object of options (`false` turns off a default set on `reverse`). */
const switchOr = (description: string, options: Schema): Schema => ({
  description,
  if: { type: 'boolean' },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
  then: { type: 'boolean' },
  else: options,
})
const duration = (description: string, def: string): Schema => ({
  type: ['string', 'integer'],
  format: 'duration',
  description: `${description} A duration: \`"250ms"\`, \`"5s"\`, or milliseconds.`,
  default: def,
})

const cors = switchOr(
  'CORS answers by @fastify/cors: `true` for its defaults (any origin), or its options. Preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered here; the headers are on proxied answers, cache hits and errors alike.',
  object('@fastify/cors options.', {
    origin: {
      description:
        'Origins allowed: `"*"`, one origin, a list of them, or `true` to reflect the request’s Origin.',
      if: { type: 'boolean' },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
      then: { type: 'boolean' },
      else: oneOrMany('Origins.'),
    },
    credentials: { type: 'boolean', default: false, description: 'Send Access-Control-Allow-Credentials.' },
    methods: names('Methods allowed in preflights (default `GET,HEAD,POST`).'),
    allowedHeaders: names('Request headers allowed (default: those the preflight asks for).'),
    exposedHeaders: names('Response headers the page may read.'),
    maxAge: { type: 'integer', minimum: 0, description: 'Seconds a browser may cache a preflight.' },
    strictPreflight: {
      type: 'boolean',
      default: true,
      description: 'Answer 400 to an OPTIONS request without Origin or Access-Control-Request-Method.',
    },
  }),
)

const HELMET_KEYS = [
  'contentSecurityPolicy',
  'crossOriginEmbedderPolicy',
  'crossOriginOpenerPolicy',
  'crossOriginResourcePolicy',
  'originAgentCluster',
  'referrerPolicy',
  'strictTransportSecurity',
  'xContentTypeOptions',
  'xDnsPrefetchControl',
  'xDownloadOptions',
  'xFrameOptions',
  'xPermittedCrossDomainPolicies',
  'xXssProtection',
]
const helmet = switchOr(
  'Security headers by @fastify/helmet: `true` for its defaults, or its options (each header `false` to leave it out, or that header’s options, as in helmet’s documentation).',
  object(
    '@fastify/helmet options.',
    Object.fromEntries(
      HELMET_KEYS.map((k) => [k, { type: ['boolean', 'object'], description: `helmet's \`${k}\`.` }]),
    ),
  ),
)

const compress = switchOr(
  'Compression by @fastify/compress of proxied answers and cache hits whose client accepts it (the cache stores the upstream’s bytes and compresses each hit).',
  object('@fastify/compress options.', {
    encodings: {
      type: 'array',
      minItems: 1,
      items: { enum: ['br', 'gzip', 'deflate'] },
      default: ['br', 'gzip', 'deflate'],
      description: 'Encodings offered, in order of preference.',
    },
    threshold: {
      type: ['string', 'integer'],
      format: 'size',
      default: 1024,
      description: 'Smaller bodies are sent as they are. A size: `"1KiB"`, or bytes.',
    },
    types: strings(
      'Content types compressed: `text/html`, or `text/*` (default: what @fastify/compress deems compressible, text, JSON, XML, JavaScript …).',
      { type: 'string', pattern: '^[A-Za-z0-9!#$&^_.+-]+/(?:\\*|[A-Za-z0-9!#$&^_.+-]+)$' },
    ),
  }),
)

const authSchema = object(
  'Authentication on this route, through @proxykit/access-control: the access log and `rules` see the user. Basic and JWT are told apart by the Authorization scheme; `forward` asks a service about every request. Failures are 401 with WWW-Authenticate.',
  {
    realm: {
      type: 'string',
      minLength: 1,
      default: 'proxykit',
      description: 'The realm in WWW-Authenticate.',
    },
    required: {
      type: 'boolean',
      default: true,
      description:
        'Every request must authenticate. `false`: credentials are checked when sent, and `rules` decide (a rule with `users` or `groups` asks for them).',
    },
    basic: object('Basic authentication (RFC 7617).', {
      users: {
        type: 'object',
        additionalProperties: {
          if: { type: 'string' },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
          then: { type: 'string', format: 'password-hash' },
          else: object(
            'A user with groups.',
            {
              password: { type: 'string', format: 'password-hash', description: 'The hash.' },
              groups: strings('Groups of the user, for `rules`.'),
            },
            ['password'],
          ),
        },
        description:
          'User name → bcrypt (`$2b$…`, e.g. `proxykit-gateway hash-password`) or scrypt hash, or `{ password, groups }`.',
      },
      htpasswd: {
        type: 'string',
        minLength: 1,
        description:
          'An htpasswd file (`htpasswd -B` bcrypt lines; scrypt, `$apr1$` and `{SHA}` too), read with the config: a reload reads it again.',
      },
      groups: {
        type: 'object',
        additionalProperties: strings('Members.'),
        description: 'Group → user names (htpasswd users get their groups here).',
      },
    }),
    jwt: object(
      'Bearer JSON Web Tokens (RFC 7519), verified by `jose`: the signature (HS256 with `secret`; RS256, ES256 … with `jwks` or `publicKey`), `exp`/`nbf`, and `iss`/`aud` when set.',
      {
        secret: {
          type: 'string',
          minLength: 32,
          description: 'The HMAC secret for HS256/384/512 (at least 32 characters).',
        },
        jwks: {
          type: 'string',
          format: 'url',
          description:
            'A JWKS URL; its keys are cached and fetched again for an unknown `kid` (at most every 30 s).',
        },
        publicKey: {
          type: 'string',
          pattern: '-----BEGIN PUBLIC KEY-----',
          description: 'A PEM public key (SPKI) for RS256/ES256 … .',
        },
        algorithms: {
          type: 'array',
          minItems: 1,
          items: {
            enum: [
              'HS256',
              'HS384',
              'HS512',
              'RS256',
              'RS384',
              'RS512',
              'PS256',
              'PS384',
              'PS512',
              'ES256',
              'ES384',
              'ES512',
              'EdDSA',
            ],
          },
          description:
            'Algorithms accepted (default: HS256/384/512 with `secret`, every asymmetric one otherwise).',
        },
        issuer: oneOrMany('Required `iss`.'),
        audience: oneOrMany('Required `aud` (one of them).'),
        clockTolerance: duration('Leeway on `exp` and `nbf`.', '0s'),
        userClaim: {
          type: 'string',
          minLength: 1,
          default: 'sub',
          description: 'The claim naming the user.',
        },
        groupsClaim: {
          type: 'string',
          minLength: 1,
          default: 'groups',
          description: 'The claim listing the user’s groups (a list, or a space-separated string).',
        },
        claimHeaders: {
          type: 'object',
          propertyNames: { pattern: TOKEN },
          additionalProperties: { type: 'string', minLength: 1 },
          description:
            'Request header → claim sent upstream (`x-user-id: sub`); a client’s own copy of these headers is removed.',
        },
      },
    ),
    forward: object(
      'Forward authentication (Traefik’s ForwardAuth, nginx’s auth_request): each request is first sent to `url` as a GET with its headers and X-Forwarded-Method/-Proto/-Host/-Uri/-For. A 2xx lets it through; any other answer (status, headers, body) goes back to the client.',
      {
        url: { type: 'string', format: 'url', description: 'The auth service.' },
        copyHeaders: names(
          'Headers of the service’s 2xx answer copied onto the request sent upstream (a client’s own copy is removed).',
        ),
        userHeader: {
          type: 'string',
          pattern: TOKEN,
          description: 'A header of the 2xx answer naming the user (for the access log and `rules`).',
        },
        groupsHeader: {
          type: 'string',
          pattern: TOKEN,
          description: 'A header of the 2xx answer listing groups, comma-separated.',
        },
        timeout: duration('Time the service may take (then 503).', '5s'),
      },
      ['url'],
    ),
  },
)

const auth = {
  description: `${authSchema.description} \`false\` turns off a default set on \`reverse\`.`,
  if: { type: 'boolean' },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
  then: { enum: [false] },
  else: authSchema,
}

const rule = object(
  'One rule of @proxykit/access-control: every condition given must hold; within one, any entry may match.',
  {
    name: { type: 'string', minLength: 1, description: 'Shown in 403 bodies and the access log.' },
    action: { enum: ['allow', 'deny'], description: 'What a match does.' },
    users: strings('Authenticated users (`"*"`: any).'),
    groups: strings('Groups of the authenticated user.'),
    methods: names('Request methods.'),
    clients: strings('Client addresses, CIDRs or classes.', { type: 'string', format: 'client-pattern' }),
    paths: strings(
      'Path prefixes (on a route: within the route, as `deny`); matched normalised and case-insensitively.',
      { type: 'string', format: 'path-prefix' },
    ),
    hosts: strings(
      'Hosts: `example.com`, `*.example.com` (subdomains), `.example.com` (both); the destination on `forward`, the Host header on `reverse`.',
    ),
    ports: {
      type: 'array',
      items: { type: ['integer', 'string'], format: 'port-range', minimum: 1, maximum: 65535 },
      description: 'Destination ports (`forward` only).',
    },
    destinations: strings(
      'Destination addresses or CIDRs (`forward` only, checked on the address connected to).',
      {
        type: 'string',
        format: 'ip-range',
      },
    ),
  },
  ['action'],
)

const rules = (scope: string): Schema => ({
  type: 'array',
  items: rule,
  description: `Ordered access rules on ${scope}: the first match decides (@proxykit/access-control).`,
})

/** `accessMode`: report-only roll-out of rules and auth (access-control's `mode`). */
export const accessMode = (scope: string): Schema => ({
  enum: ['enforce', 'report'],
  description: `\`report\`: the rules, auth and rate limits of ${scope} are evaluated and what they would refuse is logged (warn) and recorded in the access log as \`report\`, but let through; for rolling a policy out by its logs.`,
})

/** Route keys, also defaults on `reverse` (a route's own value replaces the default). */
export function routeSecurityKeys(scope: string): Record<string, Schema> {
  return { cors, helmet, compress, auth, rules: rules(scope), accessMode: accessMode('this route') }
}

export const listenerRules = rules
