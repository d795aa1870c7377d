// Starting a benchmark's gateway role (`node <script> role gateway <config JSON>`) as a child process.
import { startProcess } from './harness.mjs'

/**
 * Starts `node script role gateway configJson` and waits for its `{"url","port"}` line: the harness's
 * startProcess with a start timeout (`startMs`) long enough for a loaded 2-core machine (workers loading
 * every plugin at once, or the gateway's modules at a load average of 50). Resolves startProcess's
 * `{ url, port, pid, info, rssMB(), cpuSeconds(), stop() }`.
 */
export function startGatewayRole(script, configJson, startMs) {
  return startProcess(script, ['role', 'gateway', configJson], {}, { startMs })
}
