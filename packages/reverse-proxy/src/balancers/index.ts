import type { Balancer } from './balancer.js'
import { ConsistentHash } from './consistent-hash.js'
import { LeastInFlight } from './least-in-flight.js'
import { PowerOfTwoChoices } from './power-of-two.js'
import { RoundRobin } from './round-robin.js'
import { WeightedRoundRobin } from './weighted-round-robin.js'

export type { Balancer, PickContext } from './balancer.js'
export { ConsistentHash, LeastInFlight, PowerOfTwoChoices, RoundRobin, WeightedRoundRobin }

export const BALANCERS = [
  'round-robin',
  'weighted-round-robin',
  'least-in-flight',
  'p2c',
  'p2c-latency',
  'consistent-hash',
] as const
export type BalancerName = (typeof BALANCERS)[number]

export function createBalancer(name: BalancerName): Balancer {
  switch (name) {
    case 'round-robin':
      return new RoundRobin()
    case 'weighted-round-robin':
      return new WeightedRoundRobin()
    case 'least-in-flight':
      return new LeastInFlight()
    case 'p2c':
      return new PowerOfTwoChoices('in-flight')
    case 'p2c-latency':
      return new PowerOfTwoChoices('latency')
    case 'consistent-hash':
      return new ConsistentHash()
  }
}
