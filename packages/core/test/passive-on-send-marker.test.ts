// Issue 25 item 1: a plugin marks its onSend hook as passive through core (`passiveOnSend`) instead of
// spelling core's name prefix itself. A route whose only onSend hook is marked keeps the raw fast path; an
// unmarked hook sends answers through Fastify so that it runs.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type onSendHookHandler } from 'fastify'
import { answersThroughFastify, passiveOnSend } from '../src/index.js'

test('an onSend hook marked by passiveOnSend keeps the fast path; an unmarked one does not', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  const marked = passiveOnSend<onSendHookHandler>(function watch(_request, _reply, payload, done) {
    done(null, payload)
  })
  assert.equal(marked.name, 'proxykitPassivewatch')
  assert.equal(passiveOnSend(marked).name, 'proxykitPassivewatch', 'marking twice changes nothing')
  const unmarked: onSendHookHandler = function other(_request, _reply, payload, done) {
    done(null, payload)
  }
  app.get('/marked', { onSend: marked }, async (_request, reply) => String(answersThroughFastify(reply)))
  app.get('/unmarked', { onSend: unmarked }, async (_request, reply) => String(answersThroughFastify(reply)))
  assert.equal((await app.inject('/marked')).body, 'false')
  assert.equal((await app.inject('/unmarked')).body, 'true')
})
