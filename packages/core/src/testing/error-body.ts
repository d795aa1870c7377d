import assert from 'node:assert/strict'
import { STATUS_CODES } from 'node:http'

/** What a proxykit error answer carries: Fastify's default JSON error body for a `PK_*` error. */
export interface ErrorAnswer {
  statusCode: number
  code: string
  message: string
}

/**
 * Asserts that `body` is Fastify's default JSON error body for the coded error: `statusCode`, `code`,
 * `error` (the status's reason phrase) and `message`, nothing else. `message` may be a RegExp.
 */
export function assertErrorBody(
  body: string | Buffer,
  expected: { statusCode: number; code: string; message: string | RegExp },
): ErrorAnswer {
  const text = body.toString()
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(text) as Record<string, unknown>
  } catch {
    assert.fail(`not a JSON error body: ${JSON.stringify(text)}`)
  }
  assert.deepEqual(Object.keys(parsed).sort(), ['code', 'error', 'message', 'statusCode'], text)
  assert.equal(parsed.statusCode, expected.statusCode, text)
  assert.equal(parsed.code, expected.code, text)
  assert.equal(parsed.error, STATUS_CODES[expected.statusCode], text)
  if (typeof expected.message === 'string') assert.equal(parsed.message, expected.message, text)
  else assert.match(String(parsed.message), expected.message, text)
  return parsed as unknown as ErrorAnswer
}
