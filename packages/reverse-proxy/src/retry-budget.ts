import type { RetryOptions } from './options.js'

/**
 * Envoy's and Finagle's retry budget: every request sent earns `budgetRatio` of a retry, every second
 * earns `minPerSecond`, and a retry spends one. When a whole fleet fails, retries stop at that fraction
 * of the traffic instead of multiplying it.
 */
export class RetryBudget {
  private balance: number
  private last = Date.now()
  private readonly cap: number

  constructor(private readonly options: RetryOptions) {
    this.cap = Math.max(options.minPerSecond, 1) * 10
    this.balance = options.minPerSecond
  }

  deposit(): void {
    this.balance = Math.min(this.cap, this.balance + this.options.budgetRatio)
  }

  /** Whether a retry may be sent now (without spending it: see `withdraw`). */
  available(): boolean {
    const now = Date.now()
    const elapsed = now - this.last
    if (elapsed >= 1000) {
      this.balance = Math.min(this.cap, this.balance + (this.options.minPerSecond * elapsed) / 1000)
      this.last = now
    }
    return this.balance >= 1
  }

  /** Spends a retry if one is available. */
  withdraw(): boolean {
    if (!this.available()) return false
    this.balance -= 1
    return true
  }
}
