#!/usr/bin/env node
// Writes docs/gateway-config.md from the config schema (build the gateway first).
// `--check` exits 1 when the committed file differs from what the schema generates.
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { renderConfigReference } from '../dist/src/config/doc.js'

const target = fileURLToPath(new URL('../../../docs/gateway-config.md', import.meta.url))
const text = renderConfigReference()
if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '')
  if (current !== text) {
    console.error(`${target} is out of date: run node apps/gateway/scripts/config-doc.mjs`)
    process.exit(1)
  }
} else {
  await writeFile(target, text)
  console.log(`wrote ${target}`)
}
