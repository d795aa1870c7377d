import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidOptionError, isProxyError, optionChecks } from '../src/index.js'

// One error for every bad option of every plugin: PK_INVALID_OPTION, a TypeError (as Node's own option
// checks), naming the plugin, the option's path and the rule, with the path also on `option`.
test('optionChecks(plugin).invalid builds a PK_INVALID_OPTION naming the plugin, the path and the rule', () => {
  const check = optionChecks('@proxykit/example')
  const err = check.invalid('routes[2].timeouts.connect', 'must be an integer >= 1')
  assert.ok(err instanceof InvalidOptionError)
  assert.ok(err instanceof TypeError)
  assert.ok(isProxyError(err))
  assert.equal(err.code, 'PK_INVALID_OPTION')
  assert.equal(err.message, '@proxykit/example: routes[2].timeouts.connect: must be an integer >= 1')
  assert.equal(err.plugin, '@proxykit/example')
  assert.equal(err.option, 'routes[2].timeouts.connect')
})

test('the shared checkers return the value or the fallback, and refuse with the option path', () => {
  const check = optionChecks('@proxykit/example')
  const refuses = (fn: () => unknown, option: string, message: RegExp) =>
    assert.throws(fn, { code: 'PK_INVALID_OPTION', option, message })
  assert.equal(check.integer(undefined, 'n', 7), 7)
  assert.equal(check.integer(3, 'n', 7), 3)
  refuses(() => check.integer(0, 'n', 7), 'n', /^@proxykit\/example: n: must be an integer >= 1$/)
  refuses(() => check.integer(1.5, 'n', 7, 0), 'n', /must be an integer >= 0/)
  assert.equal(check.boolean(undefined, 'b', true), true)
  refuses(() => check.boolean('yes', 'b', true), 'b', /b: must be a boolean/)
  assert.equal(check.oneOf('b', 'mode', ['a', 'b'], 'a'), 'b')
  refuses(() => check.oneOf('c', 'mode', ['a', 'b'], 'a'), 'mode', /mode: must be one of "a", "b", got "c"/)
  const f = () => 1
  assert.equal(check.func(f, 'hook'), f)
  refuses(() => check.func('f', 'hook'), 'hook', /hook: must be a function/)
  refuses(() => check.object([], 'auth'), 'auth', /auth: must be an object/)
  check.knownKeys({ a: 1 }, 'opts', new Set(['a']))
  refuses(
    () => check.knownKeys({ a: 1, bee: 2 }, 'opts', new Set(['a'])),
    'opts',
    /opts: unknown option "bee"/,
  )
})
