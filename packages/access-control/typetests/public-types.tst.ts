// The types @proxykit/access-control publishes, as a user's app sees them through the package's exports.
import accessControl, {
  type AccessRule,
  hashPassword,
  type RouteAccessControl,
  verifyPassword,
} from '@proxykit/access-control'
import Fastify, { type FastifyContextConfig } from 'fastify'
import { describe, expect, test } from 'tstyche'

describe('@proxykit/access-control', () => {
  test('registers with rules, auth and rate limits', () => {
    expect(Fastify().register(accessControl)).type.not.toRaiseError()
    expect(
      Fastify().register(accessControl, {
        rules: [
          {
            name: 'lan',
            action: 'allow',
            clients: ['10.0.0.0/8'],
            rateLimit: { max: 10, timeWindow: '1 minute' },
          },
          { action: 'deny', addressClasses: ['private'], ports: [25, '8000-8999'] },
        ],
        defaultAction: 'deny',
        mode: 'report',
        auth: { users: { alice: { password: 'scrypt$…', groups: ['staff'] } } },
      }),
    ).type.not.toRaiseError()
  })

  test('rejects what a rule cannot say', () => {
    expect(Fastify().register(accessControl, { rules: [{ action: 'block' }] })).type.toRaiseError()
    expect(
      Fastify().register(accessControl, { rules: [{ action: 'allow', forms: ['asterisk'] }] }),
    ).type.toRaiseError()
    expect(Fastify().register(accessControl, { defaultAction: 'maybe' })).type.toRaiseError()
    expect<{ clients: string[] }>().type.not.toBeAssignableTo<AccessRule>()
  })

  test('a route sets config.accessControl: false or its own rules', () => {
    const app = Fastify()
    expect(app.get('/a', { config: { accessControl: false } }, async () => 'a')).type.not.toRaiseError()
    expect(
      app.get(
        '/b',
        { config: { accessControl: { rules: [{ action: 'allow' }], rateLimit: false } } },
        async () => 'b',
      ),
    ).type.not.toRaiseError()
    // Fastify infers an inline route config's type, so a wrong value is caught on the augmented field itself.
    expect<true>().type.not.toBeAssignableTo<FastifyContextConfig['accessControl']>()
    expect<RouteAccessControl>().type.toBe<FastifyContextConfig['accessControl'] & {}>()
  })

  test('password helpers are async and string-typed', () => {
    expect(hashPassword('secret')).type.toBe<Promise<string>>()
    expect(verifyPassword('secret', 'scrypt$…')).type.toBe<Promise<boolean>>()
  })
})
