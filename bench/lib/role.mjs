// Helpers for a scenario's child roles (`startProcess(SELF, ['role', …])`): print the `{"url","port"}`
// line the harness waits for, and shut down cleanly on SIGTERM/SIGINT.

/** Prints `{"url": url, "port": N, ...extra}` on stdout; with `stop`, runs it on SIGTERM/SIGINT, then exits. */
export function announce(url, stop, extra = {}) {
  process.stdout.write(`${JSON.stringify({ url, port: Number(new URL(url).port), ...extra })}\n`)
  if (stop === undefined) return
  const onSignal = () => stop().then(() => process.exit(0))
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

/** Listens with a Fastify app on 127.0.0.1 port 0, announces it, and closes it on SIGTERM/SIGINT. */
export async function serve(app) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  announce(`http://127.0.0.1:${app.server.address().port}`, () => app.close())
}
