import { existsSync } from 'node:fs'

/** Debian's Chromium (`apt-get install chromium`; `scripts/test.sh` installs it). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Launch options for playwright-core's `chromium.launch()`: headless, as root (`--no-sandbox`), and kept
 * off the network (no background requests, updates or sync), plus `extraArgs` such as `--proxy-server`.
 */
export function chromiumLaunchOptions(extraArgs: readonly string[] = []): {
  executablePath: string
  args: string[]
} {
  return {
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  }
}

/** A `skip` value for browser tests: skipped where Chromium is missing, never in CI (there it must run). */
export function chromiumSkip(): string | false {
  if (existsSync(CHROMIUM_PATH) || process.env.CI) return false
  return `${CHROMIUM_PATH} is not installed`
}
