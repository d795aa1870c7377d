// biome-ignore-all lint/suspicious/noTemplateCurlyInString: descriptions quote the config's ${NAME} syntax
// The one JSON Schema the gateway's config file is checked against (plain JSON Schema, draft 2020-12
// subset that Ajv 8 checks). Every object sets `additionalProperties: false`: an unknown key is an error,
// not a silently ignored typo. Formats are the gateway's own (see formats.ts); `description` and
// `default` feed the generated reference in docs/gateway-config.md (scripts/config-doc.mjs).
// Long on purpose: it is data, one schema read top to bottom like the config file it describes.

import { accessLogProperties } from '../routes/log-schema.js'
import { ROUTE_FORMAT_RULES, reverseFeatureProperties, routeFeatureProperties } from '../routes/schema.js'
import { accessMode, listenerRules, routeSecurityKeys } from './schema-security.js'

type Schema = Record<string, unknown>

function object(description: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', description, properties, required, additionalProperties: false }
}

const duration = (description: string, def?: string): Schema => ({
  type: ['string', 'integer'],
  format: 'duration',
  description: `${description} A duration: \`"250ms"\`, \`"5s"\`, \`"1m"\`, \`"2h"\`, or milliseconds.`,
  ...(def === undefined ? {} : { default: def }),
})

const size = (description: string, def?: string): Schema => ({
  type: ['string', 'integer'],
  // A number skips the format: parse.ts bounds both forms (1 byte to 2^53-1, exact integers).
  format: 'size',
  description: `${description} A size: \`"64MiB"\`, \`"512KB"\`, \`"100B"\`, or bytes.`,
  ...(def === undefined ? {} : { default: def }),
})

const listen = (description: string, def: string): Schema => ({
  type: ['string', 'integer'],
  format: 'listen',
  description: `${description} \`host:port\` (\`"127.0.0.1:8080"\`, \`"[::1]:8080"\`, \`"0.0.0.0:8080"\`) or a port on 127.0.0.1; port 0 picks a free port.`,
  default: def,
})

const rateLimit = (scope: string, per: string, keyed = false): Schema =>
  object(
    `A rate limit on ${scope}, counted per ${per}; over it the answer is 429 with Retry-After. Counters live in Redis when \`redis\` is set (shared by every instance).`,
    {
      max: { type: 'integer', minimum: 1, description: 'Requests allowed per window.' },
      timeWindow: duration('The window.', '1m'),
      ...(keyed
        ? {
            key: {
              type: 'string',
              pattern: '^(?:client|user|claim:.+)$',
              default: 'client',
              description:
                'What one counter counts: `client` (address), `user` (the authenticated user, else the address) or `claim:NAME` (a claim of the JWT, else the address).',
            },
          }
        : {}),
    },
    ['max'],
  )

const clients = (scope: string): Schema =>
  object(
    `Client addresses allowed or denied on ${scope}: a denied client gets 403 and reaches no origin. The address checked is the one logs and rate limits use (the peer, or what a \`trustProxy\` peer says).`,
    {
      allow: {
        type: 'array',
        items: { type: 'string', format: 'client-pattern' },
        description:
          'Addresses, CIDRs or address classes (`loopback`, `private` …) allowed; when set, every other client is denied.',
      },
      deny: {
        type: 'array',
        items: { type: 'string', format: 'client-pattern' },
        default: [],
        description: 'Clients denied, in the same forms as `allow` (checked before it).',
      },
    },
  )

const clientLimits = (listener: string): Record<string, Schema> => ({
  clientTimeouts: object(
    `How long a client of the ${listener} listener may take. Slow clients (slowloris, slow POST) hold a connection each; these cut them.`,
    {
      header: duration(
        'Time to send a request head, from the connection or the previous response (answered 408, logged `end: "timeout"`).',
        '10s',
      ),
      body: duration(
        'Longest silence while sending a request body (the connection is closed, logged 408 `end: "timeout"`); time the proxy itself is not reading does not count.',
        '30s',
      ),
      idle: duration('How long a keep-alive connection may wait for its next request.', '60s'),
    },
  ),
  maxConnectionsPerClient: {
    type: 'integer',
    minimum: 0,
    default: 256,
    description: `Open connections one client address may hold on the ${listener} listener; further ones are closed at once. 0: no cap. Counted per peer address (behind a load balancer every client shares its address: raise it or use 0).`,
  },
  proxyProtocol: object(
    `PROXY protocol (v1 and v2, as HAProxy's \`send-proxy\` / \`send-proxy-v2\` and cloud L4 balancers send it) on the ${listener} listener: the client address it carries is the one rules, rate limits, logs, \`maxConnectionsPerClient\` and X-Forwarded-For use. Connections from \`from\` must start with a header; a header from any other address closes the connection (logged with the reason).`,
    {
      from: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', format: 'ip-range' },
        description: 'Addresses and CIDRs of the balancers that send the header.',
      },
      timeout: duration('How long a balancer may take to send its header.', '5s'),
    },
    ['from'],
  ),
})

const acme: Schema = object(
  'Automatic certificates (ACME, RFC 8555, as Let’s Encrypt serves it) through acme-client: an account and an order for `domains`, proven by HTTP-01 challenges that the `redirectHttp` listener answers under `/.well-known/acme-challenge/` (so the CA must reach it on port 80 of each name). The account key, the certificate and its key are kept in `storage`, and with `redis` in Redis too (under its `prefix`): every instance serves the one certificate stored there and only one orders at a time; the certificate is served first (the default, and for its names) beside `certs`, which serve until it exists. With no `certs`, the listener starts without a certificate and refuses TLS handshakes (an alert, no certificate offered) until the first order succeeds; the challenges are answered meanwhile. Checked at start and every 12 hours and renewed when less than `renewBefore` is left; a failed order is logged with the CA’s reason, retried within the hour, and the certificate in use stays.',
  {
    directory: {
      type: 'string',
      pattern: '^https?://[^\\s]+$',
      description: 'The ACME directory URL (`https://acme-v02.api.letsencrypt.org/directory`).',
    },
    email: { type: 'string', minLength: 3, description: 'The account’s contact address.' },
    domains: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', format: 'hostname' },
      description: 'Names on the certificate (default: every route `host`).',
    },
    caFile: {
      type: 'string',
      minLength: 1,
      description:
        'PEM file of the CA that signs the ACME server’s own HTTPS certificate (a private ACME server).',
    },
    storage: {
      type: 'string',
      minLength: 1,
      default: 'acme',
      description:
        'Directory for the account key and the certificates (relative: from the working directory).',
    },
    renewBefore: duration('Renew when less than this is left of the certificate’s validity.', '30d'),
  },
  ['directory', 'email'],
)

const tls = (listener: string, more: Record<string, Schema> = {}, required = ['certs']): Schema =>
  object(
    `TLS on the ${listener} listener: it speaks HTTPS to its clients. Certificates and keys are PEM files (a certificate file may carry its chain after it); relative paths are from the working directory. They are read at start (an unreadable file, a file that is not PEM or a key that does not match is an error naming it), re-read on SIGHUP and \`POST /reload\`, and re-read when the files change, without a restart or a dropped connection (a set that fails to load is refused and logged; the one in use stays). Ciphers are Node's secure defaults.`,
    {
      certs: {
        type: 'array',
        minItems: 1,
        items: object(
          'A certificate and its key.',
          {
            cert: {
              type: 'string',
              minLength: 1,
              description: 'PEM certificate file, the leaf first and its intermediates after it.',
            },
            key: { type: 'string', minLength: 1, description: 'PEM private key file of that certificate.' },
          },
          ['cert', 'key'],
        ),
        description: `Certificates, chosen per connection by the client's SNI name against each certificate's own names (its subjectAltName DNS entries: exact names, and \`*.example.org\` for one label below): an exact name wins over a wildcard, an earlier certificate over a later one. The first is the default (no SNI, or a name none serves).${required.includes('certs') ? '' : ' May be left out with `acme`: the listener then starts with none.'}`,
      },
      minVersion: {
        enum: ['TLSv1.2', 'TLSv1.3'],
        default: 'TLSv1.2',
        description: 'Oldest TLS version accepted.',
      },
      ...more,
    },
    required,
  )

const upstream: Schema = {
  description: 'An upstream origin: its URL, or `{ url, weight }`.',
  if: { type: 'string' },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
  then: { type: 'string', format: 'http-url' },
  else: object(
    'An upstream with a weight.',
    {
      url: {
        type: 'string',
        format: 'http-url',
        description: 'The origin, `http://host:port` or `https://…`.',
      },
      weight: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: 1,
        description: 'Relative share of requests for the `weighted` balancer.',
      },
    },
    ['url'],
  ),
}

const route = object(
  'One route: requests whose path starts with `prefix` (and whose Host is `host`, or one of `hosts`, when set) go to its upstreams, or are answered by `respond` or `static`.',
  {
    name: {
      type: 'string',
      minLength: 1,
      description:
        'A name for metrics, logs and the admin API (default: the prefix, with the host when set).',
    },
    prefix: { type: 'string', format: 'path-prefix', default: '/', description: 'Path prefix matched.' },
    rewritePrefix: {
      type: 'string',
      format: 'path-prefix',
      description:
        "Replaces `prefix` before the request goes upstream (`/api/x` → `/v1/x` with `/v1`, → `/x` with `/`; default: the path unchanged, as nginx's `location` + `proxy_pass` without a URI).",
    },
    preserveHost: {
      type: 'boolean',
      default: false,
      description: "Send the client's Host upstream (default: the upstream's own host).",
    },
    host: { type: 'string', format: 'hostname', description: 'Only requests with this Host header match.' },
    upstreams: {
      type: 'array',
      minItems: 1,
      items: upstream,
      description: 'Where requests go. Required unless the route has `respond` or `static`.',
    },
    balancer: {
      enum: [
        'round-robin',
        'weighted',
        'least-connections',
        'p2c',
        'consistent-hash',
        'weighted-round-robin',
        'least-in-flight',
        'p2c-latency',
      ],
      default: 'round-robin',
      description:
        'How an upstream is chosen. `weighted` (= `weighted-round-robin`) honours weights; `least-connections` (= `least-in-flight`); `p2c` picks the less busy of two at random, `p2c-latency` the faster; `consistent-hash` keeps a key (`hashOn`) on one upstream.',
    },
    hashOn: {
      type: 'string',
      format: 'hash-on',
      description:
        'The key `consistent-hash` hashes: `header:NAME`, `cookie:NAME`, `ip` or `path` (default `ip`).',
    },
    healthCheck: object(
      'Active health checks: an upstream is marked down after `fall` failures and up after `rise` successes.',
      {
        path: {
          type: 'string',
          format: 'path-prefix',
          default: '/healthz',
          description: 'Path probed with GET.',
        },
        interval: duration('Time between probes.', '5s'),
        timeout: duration('Time a probe may take.', '1s'),
        fall: { type: 'integer', minimum: 1, default: 3, description: 'Failures before down.' },
        rise: { type: 'integer', minimum: 1, default: 2, description: 'Successes before up.' },
      },
    ),
    passiveHealth: {
      description:
        "Passive health: an upstream whose requests fail `failures` times in a row is left out for `ejectTime`, doubling with each ejection that follows without a success (up to 60 s, or `ejectTime` when longer), and back at once when an active check passes. Connection errors, resets and timeouts count; answers count only when their status is in `statuses` (as nginx's `max_fails`). Requests in flight at one failure count once, and the last available upstream of a route is never left out. `false` turns it off.",
      if: { type: 'boolean' },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
      then: { enum: [false] },
      else: object('Passive health settings.', {
        failures: {
          type: 'integer',
          minimum: 1,
          default: 3,
          description: 'Failures in a row that leave an upstream out.',
        },
        ejectTime: duration('How long the first ejection lasts.', '5s'),
        statuses: {
          type: 'array',
          items: { type: 'integer', minimum: 100, maximum: 599 },
          default: [],
          description: 'Answer statuses that count as failures (`[500, 502, 503, 504]` to count 5xx).',
        },
      }),
    },
    retries: {
      type: 'integer',
      minimum: 0,
      maximum: 10,
      default: 1,
      description: 'Retries on another upstream when connecting fails (idempotent requests only).',
    },
    timeout: duration('Time the upstream may take to answer.', '30s'),
    protocol: {
      enum: ['http1', 'h2', 'h2c'],
      default: 'http1',
      description:
        'How requests reach the upstreams: `http1`; `h2`, HTTP/2 over TLS negotiated by ALPN (https upstreams); `h2c`, cleartext HTTP/2 with prior knowledge (http upstreams). HTTP/2 carries every request to an upstream on one connection and passes trailers on, so gRPC (streaming both ways, `grpc-status`) goes through; clients reach it over HTTP/2 on a TLS listener with `http2`.',
    },
    cache: {
      type: 'boolean',
      default: false,
      description: 'Serve and store responses through the shared cache.',
    },
    deny: {
      type: 'array',
      items: { type: 'string', format: 'path-prefix' },
      default: [],
      description:
        'Path prefixes answered with 403, within the route: under `prefix: /api`, `/admin` denies `/api/admin` (a path already starting with the prefix is taken as is).',
    },
    rateLimit: rateLimit('this route', 'client address unless `key` says otherwise', true),
    clients: clients('this route (after the listener’s own `clients`)'),
    ...routeFeatureProperties,
    ...routeSecurityKeys('this route, before the listener’s `rules`'),
  },
)

export const configSchema = {
  $id: 'https://proxykit.dev/schemas/gateway-config.json',
  title: 'proxykit gateway configuration',
  ...object(
    'The gateway reads one YAML or JSON file of this shape. Unknown keys are errors. Omit `forward` or `reverse` to disable that listener. In any string, `${NAME}` is the environment variable NAME and `${file:/path}` the contents of a file (one trailing newline dropped), read at start and on every reload; a variable not set or a file not readable is an error naming it; `$${` writes a literal `${`. `${clientIp}`, `${requestId}`, `${host}` and `${scheme}` are not environment variables: they are left for the route keys that expand them per request (`headers`, `redirects`).',
    {
      forward: object(
        'The forward proxy listener (absolute-form HTTP and CONNECT tunnels). Omit to disable.',
        {
          listen: listen('Where it listens.', '127.0.0.1:3128'),
          mode: {
            enum: ['anonymous', 'transparent'],
            default: 'anonymous',
            description:
              '`anonymous` removes headers that identify the client (X-Forwarded-For, Via, Forwarded …); `transparent` adds them.',
          },
          connectPorts: {
            type: 'array',
            items: { type: 'integer', minimum: 1, maximum: 65535 },
            default: [443],
            description: 'Ports CONNECT may reach.',
          },
          ports: {
            type: 'array',
            items: { type: ['integer', 'string'], format: 'port-range', minimum: 1, maximum: 65535 },
            default: [80, 443, '1025-65535', 21, 70, 210, 280, 488, 591, 777],
            description:
              'Ports plain-HTTP requests may reach: ports and `"low-high"` ranges (the default is Squid\'s `Safe_ports`); any other is a 403.',
          },
          allow: {
            type: 'array',
            items: { type: 'string', format: 'host-pattern' },
            description:
              'Destinations allowed: host names, `*.wildcards` (subdomains), addresses, CIDRs, or address classes (`loopback`, `private` …), each optionally with `:port` or `:low-high` (`example.com:8080`, `[::1]:8000-8999`) to allow those ports only. When set, everything else is denied. An address or class listed here may be reached even when private; a host name that resolves to a private address is still refused unless `allowPrivate` is on (the check is on the address connected to, so DNS rebinding cannot slip past it).',
          },
          deny: {
            type: 'array',
            items: { type: 'string', format: 'host-pattern' },
            default: [],
            description:
              'Destinations denied, in the same forms as `allow` (checked before it); with `:port` or `:low-high`, only those ports.',
          },
          clients: clients('the forward proxy'),
          allowPrivate: {
            type: 'boolean',
            default: false,
            description:
              'Let clients reach loopback, private and link-local addresses (off: only public addresses, whatever the name resolves to).',
          },
          auth: object(
            'Proxy authentication (Basic, answered with 407 when missing or wrong).',
            {
              realm: {
                type: 'string',
                minLength: 1,
                default: 'proxykit',
                description: 'The realm in Proxy-Authenticate.',
              },
              users: {
                type: 'object',
                minProperties: 1,
                additionalProperties: { type: 'string', format: 'password-hash' },
                description: 'User name → scrypt (`scrypt$…`) or bcrypt (`$2b$…`) hash of the password.',
              },
            },
            ['users'],
          ),
          rules: listenerRules(
            'the forward proxy, after `deny` and before `allow` (users and groups need `auth`)',
          ),
          accessMode: accessMode('the forward proxy'),
          cache: {
            type: 'boolean',
            default: false,
            description: 'Serve and store plain-HTTP responses through the cache.',
          },
          rateLimit: rateLimit('the forward proxy', 'user when authenticated, else per client address'),
          timeout: duration('Time an origin may take to answer.', '30s'),
          tls: tls(
            "forward proxy (an HTTPS proxy, as Squid's `https_port`: `curl --proxy https://…`, `HTTPS_PROXY=https://…`, undici's ProxyAgent), for absolute-form requests and CONNECT alike; HTTP/1.1 only",
          ),
          parent: object(
            'Send everything (plain HTTP and CONNECT) through a parent proxy.',
            {
              url: { type: 'string', format: 'proxy-url', description: 'The parent, `http://host:port`.' },
              username: { type: 'string', description: 'Basic credentials for the parent.' },
              password: { type: 'string', description: 'Basic credentials for the parent.' },
            },
            ['url'],
          ),
          ...clientLimits('forward'),
        },
      ),
      reverse: object(
        'The reverse proxy listener. Omit to disable.',
        {
          listen: listen('Where it listens.', '127.0.0.1:8080'),
          trustProxy: {
            description:
              'Peers (load balancers) trusted to say who the client is: `true` for any, or a list of addresses and CIDRs. Their X-Forwarded-For / Forwarded then decide the client address used in logs and rate limits, and are appended to, not replaced.',
            if: { type: 'boolean' },
            // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
            then: { type: 'boolean' },
            else: { type: 'array', minItems: 1, items: { type: 'string', format: 'ip-range' } },
          },
          // `certs` may be left out with `acme` (checked in parse.ts): the listener then starts without one.
          tls: tls('reverse', { acme }, []),
          http2: {
            type: 'boolean',
            description:
              'HTTP/2 to clients on the TLS listener, negotiated by ALPN (`h2`, then `http/1.1`, on the same port: HTTP/1.1 clients and WebSockets keep working). Default: true when `tls` is set; needs `tls`.',
          },
          redirectHttp: {
            type: ['string', 'integer'],
            format: 'listen',
            description:
              'A plain-HTTP listener (`host:port`, e.g. `"0.0.0.0:80"`) that answers every request with `301` to the same host and path over https on the TLS listener, except `/.well-known/acme-challenge/` (HTTP-01 challenges). Needs `tls`.',
          },
          hsts: {
            description:
              'Strict-Transport-Security on every answer of the TLS listener: `max-age` in seconds, or `{ maxAge, includeSubDomains, preload }`. Needs `tls`.',
            if: { type: 'integer' },
            // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
            then: { type: 'integer', minimum: 0 },
            else: object(
              'Strict-Transport-Security with its directives.',
              {
                maxAge: { type: 'integer', minimum: 0, description: '`max-age`, in seconds.' },
                includeSubDomains: {
                  type: 'boolean',
                  default: false,
                  description: 'Adds `includeSubDomains`.',
                },
                preload: { type: 'boolean', default: false, description: 'Adds `preload`.' },
              },
              ['maxAge'],
            ),
          },
          clients: clients('every route of the reverse listener'),
          stripRequestHeaders: {
            type: 'array',
            items: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
            default: ['x-original-url', 'x-rewrite-url'],
            description:
              'Request headers never sent upstream. IIS, Symfony and others route by these two, so a client’s copy would reach a path the rules here never saw; `[]` keeps them.',
          },
          ...(({ rules: _, accessMode: __, ...defaults }) => defaults)(routeSecurityKeys('')),
          accessMode: accessMode('the listener (a route’s own `accessMode` wins)'),
          rules: listenerRules('every route of the reverse listener, after each route’s own `rules`'),
          routes: {
            type: 'array',
            minItems: 1,
            items: route,
            description:
              'Routes. A request goes to the route with the longest matching prefix; a route with `host` or `hosts` wins over one without.',
          },
          ...clientLimits('reverse'),
          ...reverseFeatureProperties,
        },
        ['routes'],
      ),
      cache: object(
        'The shared HTTP cache (RFC 9111) used by routes and the forward proxy with `cache: true`.',
        {
          store: {
            enum: ['memory', 'redis'],
            default: 'memory',
            description: '`redis` shares entries between instances (needs `redis`).',
          },
          maxSize: size(
            'Total size of the memory store (the same default as @proxykit/cache; raise it for a gateway that has the memory).',
            '64MiB',
          ),
          maxEntrySize: size(
            'Largest response stored. Default: 8MiB, or an eighth of a smaller `maxSize` (as @proxykit/cache).',
          ),
          local: size(
            "With `store: redis`: an in-process tier of this size in front of Redis (`16MiB`), serving hot entries at memory-store cost. Invalidations (purges, unsafe methods, replaced entries) reach every instance's tier through Redis pub/sub; while that subscription is down the tier is dropped and bypassed; a local copy lives no longer than its entry is fresh.",
          ),
          targetedCacheControl: {
            type: 'array',
            items: {
              type: 'string',
              pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
              not: { pattern: '^[Cc][Aa][Cc][Hh][Ee]-[Cc][Oo][Nn][Tt][Rr][Oo][Ll]$' },
            },
            default: [],
            description:
              'Targeted cache-control fields (RFC 9213) that the reverse listener\'s cache obeys over `Cache-Control` and `Expires`, the first present and valid one winning: e.g. `["CDN-Cache-Control"]`. They still go downstream. The forward proxy\'s cache ignores them.',
          },
        },
      ),
      redis: {
        description:
          'Redis for a shared cache and shared rate-limit counters: a URL (`redis://host:port/db`, `redis://:password@host:port` with AUTH, e.g. `redis://:${file:/run/secrets/redis}@redis:6379`), or `{ url | cluster | sentinels, prefix, rateLimits }`: one server, a Redis Cluster or a Sentinel group.',
        if: { type: 'string' },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
        then: { type: 'string', format: 'redis-url' },
        else: object('Redis with a key prefix: exactly one of `url`, `cluster` and `sentinels`.', {
          url: { type: 'string', format: 'redis-url', description: 'One server.' },
          cluster: {
            type: 'array',
            minItems: 1,
            items: { type: 'string', format: 'redis-url' },
            description:
              'A Redis Cluster: some of its nodes (`redis://host:port`; the others are discovered, and promoted replicas followed). Credentials in the first URL apply to every node.',
          },
          sentinels: {
            type: 'array',
            minItems: 1,
            items: { type: 'string', format: 'redis-url' },
            description:
              "A Sentinel group: the sentinels (`redis://host:port`), asked for the primary of `name` at every (re)connection. Credentials in the first URL are the sentinels' own.",
          },
          name: {
            type: 'string',
            minLength: 1,
            description: 'The Sentinel group name (`sentinel monitor <name> …`); required with `sentinels`.',
          },
          prefix: {
            type: 'string',
            minLength: 1,
            default: 'proxykit:gateway:',
            description:
              'Prefix of every key the gateway writes (cache entries, rate-limit counters, ACME state).',
          },
          rateLimits: {
            enum: ['fail-open', 'fail-closed'],
            default: 'fail-open',
            description:
              'While Redis is unreachable: `fail-open` lets requests through unlimited, `fail-closed` refuses those that a rate limit covers. The cache is bypassed either way.',
          },
        }),
      },
      admin: object('The admin listener: health, readiness, metrics, purge and upstream management.', {
        listen: listen('Where it listens; keep it on loopback or a private network.', '127.0.0.1:9901'),
        token: {
          type: 'string',
          minLength: 8,
          description:
            'Bearer token required by mutating calls (`POST /purge`, upstream changes). Without it those calls are refused.',
        },
      }),
      workers: {
        description:
          'Worker processes sharing the listeners (node:cluster): a number, or `"auto"` for one per CPU core. With more than one, the admin listener runs in the primary process and aggregates every worker\'s metrics; set `redis` so that workers share the cache and rate-limit counters (see docs/operations.md).',
        type: ['integer', 'string'],
        format: 'workers',
        minimum: 1,
        maximum: 256,
        default: 1,
      },
      log: object('Logging (pino, one JSON object per line on stdout).', {
        level: {
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          description: 'Minimum level.',
        },
        access: { type: 'boolean', default: true, description: 'One access-log line per request.' },
        ...accessLogProperties,
      }),
      shutdown: object('Graceful shutdown on SIGTERM and SIGINT.', {
        grace: duration(
          'How long in-flight requests may take to finish before connections and tunnels are cut.',
          '10s',
        ),
      }),
    },
  ),
} as const

/** What each format means, as the error message says it. */
export const FORMAT_RULES: Record<string, string> = {
  duration: 'must be a duration like "250ms", "5s", "1m" or a number of milliseconds',
  size: 'must be a size like "64MiB", "512KB" or a number of bytes, from 1 byte to 8 PiB',
  listen: 'must be host:port ("127.0.0.1:8080", "[::1]:8080") or a port number',
  'http-url': 'must be an http(s) URL (scheme, host and port; no path)',
  'proxy-url': 'must be an http:// URL (scheme, host and port; no path or credentials)',
  'redis-url': 'must be a redis:// or rediss:// URL',
  'path-prefix': 'must be a path starting with "/"',
  hostname: 'must be a host name or an address (IPv4 as four decimal octets, no leading zeros)',
  'host-pattern':
    'must be a host name, a *.wildcard, an address (IPv4 as four decimal octets, no leading zeros), a CIDR or an address class, optionally with :port or :low-high',
  'client-pattern': 'must be an IP address, a CIDR or an address class (loopback, private …)',
  'port-range': 'must be a port (1-65535) or a "low-high" range of them',
  'hash-on': 'must be header:NAME, cookie:NAME, ip or path',
  'ip-range': 'must be an IP address or a CIDR',
  workers: 'must be a number of processes (1 to 256) or "auto"',
  url: 'must be an http(s) URL',
  'password-hash': 'must be a scrypt ("scrypt$N$r$p$salt$hash") or bcrypt ("$2b$…") hash',
  ...ROUTE_FORMAT_RULES,
}
