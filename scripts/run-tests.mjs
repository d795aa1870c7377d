#!/usr/bin/env node
// Runs every package's built tests (dist/test) in one `node --test`, so CI reads one closing summary.
// Arguments narrow the run: `node scripts/run-tests.mjs packages/cache` runs one package's tests.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'))
const dirs =
  roots.length > 0 ? roots : ['packages', 'apps'].flatMap((d) => readdirSync(d).map((p) => join(d, p)))
const files = []
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (e.name.endsWith('.test.js')) files.push(p)
  }
}
for (const d of dirs) {
  const t = join(d, 'dist', 'test')
  if (existsSync(t)) walk(t)
}
if (files.length === 0) {
  console.error('no built tests found: run the build first')
  process.exit(1)
}
const concurrency = process.env.TEST_CONCURRENCY ?? '3'
const result = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs',
    '--test-reporter-destination=stdout',
    ...flags,
    ...files.sort(),
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
)
process.exit(result.status ?? 1)
