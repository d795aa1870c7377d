import type { Shared } from '../shared.js'
import { type AdminControls, ControlError } from './controls.js'

/**
 * The admin API's purge, through the first listener that has the cache: one store serves every listener,
 * so purging through one purges for all. Built again for the new listeners after a reload.
 */
export function purgeControl(shared: Shared): AdminControls['purge'] {
  return async (what) => {
    const owner = shared.caches[0]
    if (owner === undefined) throw new ControlError('no listener has the cache on', 404)
    try {
      return await owner.app.proxyCache.purge(
        what.url !== undefined ? { url: what.url } : { tag: what.tag ?? '' },
      )
    } catch (err) {
      throw new ControlError((err as Error).message)
    }
  }
}
