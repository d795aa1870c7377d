// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${clientIp}` and the like are the config's own variables, not template literals
// The JSON Schema of issue 27's route keys (headers, redirects and rewrites, hosts, body limits, static
// answers): kept apart from config/schema.ts, which spreads them into a route and, for those that make
// sense as defaults, into `reverse`.

type Schema = Record<string, unknown>

const object = (description: string, properties: Record<string, Schema>, required: string[] = []) => ({
  type: 'object',
  description,
  properties,
  required,
  additionalProperties: false,
})

/** What the docs say about regexes from the config, once. */
export const REGEX_RULES =
  'A JavaScript regular expression matched against the path (without the query), at most 1000 characters; one that can backtrack catastrophically (a repeated part inside a repeated part, as in `(a+)+`; `?` does not count) is refused by `--check`, and so is lookbehind, which that check cannot read.'

const VARIABLES =
  'Variables: `${clientIp}` (the client address, as logs see it), `${requestId}`, `${host}` (the Host, without port) and `${scheme}` (`http` or `https`); `$$` is a literal `$`.'

const headerValues = (what: string): Schema => ({
  type: 'object',
  additionalProperties: { type: 'string', format: 'header-value' },
  description: `${what} ${VARIABLES}`,
})

const headerSide = (side: string, where: string): Schema =>
  object(`${side} headers ${where}. Applied in this order: \`remove\`, \`set\`, \`add\`.`, {
    set: headerValues('Name → value: replaces any value of that name.'),
    add: headerValues('Name → value: one more field line of that name, beside those already there.'),
    remove: {
      type: 'array',
      items: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
      description: 'Header names removed.',
    },
  })

const headers: Schema = object(
  'Headers changed on the way up and on the way down. Framing and hop-by-hop headers (`content-length`, `transfer-encoding`, `connection` …) cannot be changed; values cannot hold CR, LF or NUL, and a variable that would put one there has it dropped.',
  {
    request: headerSide('Request', 'sent upstream'),
    response: headerSide(
      'Response',
      'sent to the client: proxied answers, cache hits, static files, `respond` answers and the gateway’s own errors alike',
    ),
  },
)

const redirects: Schema = {
  type: 'array',
  items: object(
    'A redirect: a request whose path matches `from` is answered `status` with `Location` built from `to`.',
    {
      from: { type: 'string', minLength: 1, maxLength: 1000, description: REGEX_RULES },
      to: {
        type: 'string',
        minLength: 1,
        format: 'header-value',
        description: `The Location: a path or an absolute URL (\`https://\${host}$1\` changes scheme and keeps the host). \`$1\`…\`$99\` and \`$<name>\` are the captures of \`from\`; the request's query is appended. ${VARIABLES}`,
      },
      status: {
        enum: [301, 302, 303, 307, 308],
        default: 302,
        description: '301 or 308 are permanent (308 and 307 keep the method and body).',
      },
    },
    ['from', 'to'],
  ),
  description:
    'Redirect rules, the first matching one answering, before access rules, the cache and the upstream (on `reverse`: for every request, after the route’s own).',
}

const rewrite: Schema = {
  type: 'array',
  items: object(
    'A path rewrite: the first rule whose `from` matches the path sends `to` upstream instead of it (the query is kept). `rewritePrefix` applies only when no rule matched.',
    {
      from: { type: 'string', minLength: 1, maxLength: 1000, description: REGEX_RULES },
      to: {
        type: 'string',
        pattern: '^/',
        description:
          'The path sent upstream, starting with `/`; `$1`…`$99` and `$<name>` are the captures of `from`, `$$` a literal `$`.',
      },
    },
    ['from', 'to'],
  ),
  description:
    'Path rewrites by regex. The cache, access rules and the access log see the client’s path; only the upstream sees the rewritten one.',
}

const bodyLimit: Schema = {
  type: ['string', 'integer'],
  format: 'size',
  description:
    'Largest request body: a longer `Content-Length` is answered 413 before anything goes upstream; a chunked body that grows past it is cut and answered 413 (or, when the upstream answered already, the connection is closed). A size: `"10MiB"`, `"512KB"`, or bytes. Default: no limit.',
}

/** Keys of a route; the first three are also defaults on `reverse`. */
export const routeFeatureProperties: Record<string, Schema> = {
  headers,
  redirects,
  bodyLimit,
  hosts: {
    type: 'array',
    minItems: 1,
    items: { type: 'string', format: 'route-host' },
    description:
      'Only requests whose Host is one of these (port and case ignored): names, and `*.example.org` for any subdomain of example.org at any depth (not example.org itself). Instead of `host`.',
  },
  rewrite,
  respond: object(
    'Answer every request of the route here, without an upstream (maintenance pages, health endpoints). Instead of `upstreams` and `static`.',
    {
      status: { type: 'integer', minimum: 200, maximum: 599, default: 200, description: 'The status.' },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string', format: 'header-value' },
        default: {},
        description:
          'Response headers (`content-type` defaults to `text/plain; charset=utf-8` when there is a body).',
      },
      body: { type: 'string', default: '', description: 'The body (UTF-8).' },
    },
  ),
  static: object(
    'Serve files from a directory (@fastify/static), the path below `prefix` naming the file: `prefix: /static` serves `/static/a.css` from `ROOT/a.css`. With `cache: true` the shared cache answers in front of it. Instead of `upstreams` and `respond`.',
    {
      root: {
        type: 'string',
        minLength: 1,
        description: 'The directory (absolute, or relative to the working directory).',
      },
      index: {
        type: ['string', 'boolean'],
        default: 'index.html',
        description: 'The file served for a directory; `false` for none.',
      },
      maxAge: {
        type: ['string', 'integer'],
        format: 'duration',
        default: '0s',
        description:
          'The `Cache-Control: public, max-age` sent with each file, which is also how long the shared cache keeps it (0: revalidated every time, by ETag). A duration: `"10m"`, or milliseconds.',
      },
      dotfiles: {
        enum: ['deny', 'ignore', 'allow'],
        default: 'ignore',
        description: 'Files whose name starts with a dot: `ignore` answers 404, `deny` 403.',
      },
    },
    ['root'],
  ),
}

/** Keys of the reverse listener. */
export const reverseFeatureProperties: Record<string, Schema> = {
  headers: routeFeatureProperties.headers!,
  redirects: routeFeatureProperties.redirects!,
  bodyLimit: routeFeatureProperties.bodyLimit!,
  maxHeaderSize: {
    type: ['string', 'integer'],
    format: 'size',
    default: '16KiB',
    description:
      'Largest request head (request line and headers) a client may send; a larger one is answered 431 and logged `route: "malformed"`. A size: `"16KiB"`, or bytes. A reload keeps the value the listener started with.',
  },
}

/** Formats used above, with the words their errors say. */
export const ROUTE_FORMAT_RULES: Record<string, string> = {
  'header-value':
    'must hold visible ASCII, spaces, tabs or Latin-1 only (no CR, LF, NUL or other control characters)',
  'route-host': 'must be a host name or "*." and a domain name, without port',
  'rotate-every': 'must be "hourly", "daily" or a duration like "6h"',
}
