// The JSON Schema of `log.file` and `log.fields` (issue 27 item 8), spread into config/schema.ts's `log`.

export const ACCESS_FIELDS = [
  'listener',
  'reqId',
  'method',
  'target',
  'route',
  'status',
  'end',
  'bytes',
  'ms',
  'remote',
  'access',
  'rule',
  'user',
  'cache',
  'upstream',
  'attempts',
  'error',
] as const

export const accessLogProperties: Record<string, Record<string, unknown>> = {
  file: {
    type: 'object',
    description:
      'Access lines go to this file instead of stdout (other log lines stay on stdout), through pino-roll in a worker thread. Rotated files are numbered before the extension (`access.1.log`, `access.2.log` …). With `workers`, each worker writes its own (`access.w1.log` …). A reload keeps the file the gateway started with.',
    properties: {
      path: { type: 'string', minLength: 1, description: 'The file (its directory is created).' },
      rotate: {
        type: 'object',
        description: 'When to start a new file, and how many to keep; by default the file only grows.',
        properties: {
          size: {
            type: ['string', 'integer'],
            format: 'size',
            description:
              'Start a new file once this one reaches this size (rounded up to KiB). A size: `"100MiB"`, or bytes.',
          },
          every: {
            type: ['string', 'integer'],
            format: 'rotate-every',
            description: 'Start a new file `hourly`, `daily`, or after a duration (`"6h"`).',
          },
          keep: {
            type: 'integer',
            minimum: 1,
            description:
              'Rotated files kept besides the current one (as Caddy’s `roll_keep`); older ones are deleted. Default: all.',
          },
        },
        required: [],
        additionalProperties: false,
      },
    },
    required: ['path'],
    additionalProperties: false,
  },
  fields: {
    type: 'array',
    minItems: 1,
    uniqueItems: true,
    items: { enum: [...ACCESS_FIELDS] },
    description:
      'The access line fields kept (default: all; `level`, `time`, `pid` and `msg` are always there, and on stdout so are `listener` and `reqId`).',
  },
}
