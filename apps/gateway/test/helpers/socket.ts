import type net from 'node:net'

/** Reads from the socket until `pattern` shows up in what arrived (bounded by timeoutMs). */
export function readUntil(socket: net.Socket, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => {
      socket.off('data', onData)
      reject(new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(text)}`))
    }, timeoutMs)
    const onData = (c: Buffer) => {
      text += c.toString('latin1')
      if (pattern.test(text)) {
        clearTimeout(timer)
        socket.off('data', onData)
        resolve(text)
      }
    }
    socket.on('data', onData)
  })
}
