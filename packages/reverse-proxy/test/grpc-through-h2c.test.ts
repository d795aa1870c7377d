import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { startH2Proxy } from './http2-helpers.js'

// gRPC passes through a route with `protocol: h2c`: @grpc/grpc-js client → the proxy (HTTP/2, cleartext
// prior knowledge) → @grpc/grpc-js server. Unary calls, both streaming directions at once (each reply is
// awaited before the next message is sent, so a proxy that buffered either side would hang), trailing
// metadata, and an error's grpc-status and message, which travel in trailers.

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
}

function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  }
}

const service = {
  echo: method('/pk.test.Echo/Echo', false, false),
  chat: method('/pk.test.Echo/Chat', true, true),
  missing: method('/pk.test.Echo/Missing', false, false),
} as unknown as grpc.ServiceDefinition

type Msg = { text: string }

test('gRPC through an h2c route: unary, bidirectional streaming, trailers and grpc-status', async (t) => {
  const server = new grpc.Server()
  server.addService(service, {
    echo(call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      const trailer = new grpc.Metadata()
      trailer.set('x-served-by', 'grpc-origin')
      callback(null, { text: `echo:${call.request.text}` }, trailer)
    },
    chat(call: grpc.ServerDuplexStream<Msg, Msg>) {
      call.on('data', (m: Msg) => call.write({ text: `re:${m.text}` }))
      call.on('end', () => call.end())
    },
    missing(_call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      callback({ code: grpc.status.NOT_FOUND, details: 'no such thing here' })
    },
  } as grpc.UntypedServiceImplementation)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    ),
  )
  // forceShutdown: tryShutdown would wait for the proxy's kept-alive session to it.
  t.after(() => server.forceShutdown())

  const proxy = await startH2Proxy(
    t,
    { routes: [{ prefix: '/', upstreams: [`http://127.0.0.1:${port}`], protocol: 'h2c' }] },
    false,
  )
  const Client = grpc.makeGenericClientConstructor(service, 'Echo')
  const client = new Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>
  t.after(() => client.close())

  // Unary, with trailing metadata.
  let trailers: grpc.Metadata | null = null
  const reply = await new Promise<Msg>((resolve, reject) => {
    const call = client.echo({ text: 'hi' }, (err: Error | null, r: Msg) =>
      err ? reject(err) : resolve(r),
    ) as grpc.ClientUnaryCall
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata
    })
  })
  assert.deepEqual(reply, { text: 'echo:hi' })
  await new Promise((r) => setImmediate(r))
  assert.deepEqual((trailers as grpc.Metadata | null)?.get('x-served-by'), ['grpc-origin'])

  // Bidirectional: each message goes out only after the reply to the one before came back.
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

  // An error: grpc-status and grpc-message reach the client.
  const err = await new Promise<grpc.ServiceError>((resolve) =>
    client.missing({ text: 'x' }, (e: grpc.ServiceError) => resolve(e)),
  )
  assert.equal(err.code, grpc.status.NOT_FOUND)
  assert.equal(err.details, 'no such thing here')

  // Every call came in as HTTP/2.
  assert.ok(proxy.versions.length >= 3)
  assert.ok(proxy.versions.every((v) => v === '2.0'))
  // Closed here, before the proxy: the server's close waits for the client's session to end.
  client.close()
})
