import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'

export interface UnacceptingPort {
  port: number
  host: string
  close(): Promise<void>
}

// The listener lives in a child process whose only thread then sleeps, so nothing ever accepts. Bounded:
// the child wakes and exits by itself after `lifetimeMs` even if nobody closes it.
const CHILD = `
const net = require('node:net')
const server = net.createServer().listen({ port: 0, host: process.argv[1], backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]))
    process.exit(0)
  })
})`

/**
 * A loopback port where TCP connects hang: a listener that never accepts, its accept queue already full
 * (Linux then drops further SYNs, so the connecting side waits until its own timeout). For testing connect
 * timeouts without sending a packet off the machine.
 */
export async function startUnacceptingPort(
  host = '127.0.0.1',
  lifetimeMs = 30_000,
): Promise<UnacceptingPort> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD, host, String(lifetimeMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  const port = Number(line.toString().trim())
  // Fill the accept queue: connects complete in the kernel until it is full, then hang.
  const fillers: net.Socket[] = []
  for (let i = 0; i < 8; i++) {
    const socket = net.connect(port, host)
    socket.on('error', () => {})
    fillers.push(socket)
    const connected = await Promise.race([
      once(socket, 'connect').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, 200, false)),
    ])
    if (!connected) break
  }
  return {
    port,
    host,
    async close() {
      for (const s of fillers) s.destroy()
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await once(child, 'exit')
      }
    },
  }
}
