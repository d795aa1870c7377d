// Starting a benchmark's gateway role (`node <script> role gateway <config JSON>`) as a child process.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { cpuSecondsOf, track } from './harness.mjs'

/**
 * Starts `node script role gateway configJson` and waits for its `{"url","port"}` line: like the
 * harness's startProcess, with a start timeout (`startMs`) long enough for a loaded 2-core machine
 * (workers loading every plugin at once, or the gateway's modules at a load average of 50), and skipping
 * the gateway's own JSON log lines. Resolves `{ url, port, pid, info, cpuSeconds(), stop() }`.
 */
export function startGatewayRole(script, configJson, startMs) {
  const child = spawn(process.execPath, [script, 'role', 'gateway', configJson], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const stop = track(child)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop().then(() => reject(new Error(`a gateway did not start within ${startMs} ms`)))
    }, startMs)
    child.once('exit', (code, signal) =>
      reject(new Error(`a gateway exited (${signal ?? code}) before listening`)),
    )
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      let info
      try {
        info = JSON.parse(line)
      } catch {
        return
      }
      if (typeof info.port !== 'number' || info.level !== undefined) return
      clearTimeout(timer)
      lines.removeAllListeners('line')
      child.stdout.resume()
      const pid = child.pid
      resolve({ url: info.url, port: info.port, pid, info, cpuSeconds: () => cpuSecondsOf(pid), stop })
    })
  })
}
