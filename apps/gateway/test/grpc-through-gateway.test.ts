import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { startCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

// gRPC end to end through the gateway: a @grpc/grpc-js client speaks HTTP/2 over TLS (ALPN h2) to the
// reverse listener, whose route reaches a @grpc/grpc-js server with `protocol: h2c`. Streaming both
// ways at once, trailing metadata and an error's grpc-status all arrive.

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
}
const method = (path: string, stream: boolean) => ({
  path,
  requestStream: stream,
  responseStream: stream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
})
const service = {
  chat: method('/pk.test.Echo/Chat', true),
  missing: method('/pk.test.Echo/Missing', false),
} as unknown as grpc.ServiceDefinition
type Msg = { text: string }

test('gRPC through the gateway: TLS + HTTP/2 from the client, h2c to the server', async (t) => {
  const server = new grpc.Server()
  server.addService(service, {
    chat(call: grpc.ServerDuplexStream<Msg, Msg>) {
      call.on('data', (m: Msg) => call.write({ text: `re:${m.text}` }))
      call.on('end', () => {
        const trailer = new grpc.Metadata()
        trailer.set('x-served-by', 'grpc-origin')
        call.end(trailer)
      })
    },
    missing(_call: unknown, callback: grpc.sendUnaryData<Msg>) {
      callback({ code: grpc.status.NOT_FOUND, details: 'no such thing here' })
    },
  } as grpc.UntypedServiceImplementation)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    ),
  )
  // forceShutdown: tryShutdown would wait for the gateway's kept-alive session to it.
  t.after(() => server.forceShutdown())

  const ca = await createTestCa(t)
  const cert = await ca.issue(['grpc.test'])
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      routes: [{ upstreams: [`http://127.0.0.1:${port}`], protocol: 'h2c' }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const Client = grpc.makeGenericClientConstructor(service, 'Echo')
  const client = new Client(
    `127.0.0.1:${new URL(gw.urls.reverse!).port}`,
    grpc.credentials.createSsl(await readFile(ca.certFile)),
    { 'grpc.ssl_target_name_override': 'grpc.test', 'grpc.default_authority': 'grpc.test' },
  ) as grpc.Client & Record<string, (...args: unknown[]) => unknown>
  t.after(() => client.close())

  const chat = client.chat() as grpc.ClientDuplexStream<Msg, Msg>
  const replies: string[] = []
  for (const text of ['one', 'two', 'three']) {
    chat.write({ text })
    const [m] = (await once(chat, 'data')) as [Msg]
    replies.push(m.text)
  }
  chat.end()
  const [status] = (await once(chat, 'status')) as [grpc.StatusObject]
  assert.deepEqual(replies, ['re:one', 're:two', 're:three'])
  assert.equal(status.code, grpc.status.OK)
  assert.deepEqual(status.metadata.get('x-served-by'), ['grpc-origin'])

  const err = await new Promise<grpc.ServiceError>((resolve) =>
    client.missing({ text: 'x' }, (e: grpc.ServiceError) => resolve(e)),
  )
  assert.equal(err.code, grpc.status.NOT_FOUND)
  assert.equal(err.details, 'no such thing here')

  const line = await gw.waitForLog((l) => l.msg === 'access' && l.target === '/pk.test.Echo/Missing')
  assert.equal(line.status, 200)
  client.close()
  assert.equal(await gw.stop(), 0)
})
