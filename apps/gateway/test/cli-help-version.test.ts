import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { test } from 'node:test'
import { runCli } from './helpers/cli.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

// Issue 26 item 17: no --version; --help said nothing of SIGHUP, reload or workers, and pointed at
// docs/… paths that do not exist where the package is installed.
test('--version prints the package version', async () => {
  for (const flag of ['--version', '-v']) {
    const r = await runCli([flag])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${pkg.version}\n`)
  }
})

test('--help tells how to reload, stop and use workers, and names documents that exist', async () => {
  const r = await runCli(['--help'])
  assert.equal(r.code, 0, r.stderr)
  for (const word of ['SIGHUP', 'SIGTERM', 'reload', 'POST /reload', 'workers', '--version', 'hash-password'])
    assert.ok(r.stdout.includes(word), `--help mentions ${word}`)
  const documents = r.stdout.match(/\S+\.md\b/g) ?? []
  assert.ok(documents.length >= 2, r.stdout)
  for (const doc of documents) {
    assert.ok(isAbsolute(doc), `${doc} is a path that works from any directory`)
    assert.ok(existsSync(doc), `${doc} exists`)
  }
})
