// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config file's own ${NAME} and ${file:} syntax, not templates
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { CLI, writeConfig } from './helpers/cli.js'

function check(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, '--check', '--config', file],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }),
    )
  })
}

test('${NAME} and ${file:/path} in config strings come from the environment and files; a missing one is named', async (t) => {
  const file = await writeConfig(
    t,
    [
      'forward:',
      '  listen: ${PK_FORWARD_LISTEN}',
      '  parent: { url: "http://127.0.0.1:3129", username: "${PK_PARENT_USER}", password: "${file:SECRET}" }',
      'admin:',
      '  listen: 127.0.0.1:0',
      '  token: ${PK_ADMIN_TOKEN}',
      'redis: redis://:${file:SECRET}@127.0.0.1:6379/0',
      'log: { level: "$${literal}" }',
    ].join('\n'),
  )
  const secret = join(dirname(file), 'parent-password')
  await writeFile(secret, 's3cret-from-file\n')
  await writeFile(file, (await readFile(file, 'utf8')).replaceAll('SECRET', secret))

  const env = {
    PK_FORWARD_LISTEN: '127.0.0.1:3999',
    PK_PARENT_USER: 'up',
    PK_ADMIN_TOKEN: 'token-from-env-123',
  }
  // `$${literal}` stays `${literal}`: not a log level, so the one error is about the level, not a reference.
  const literal = await check(file, env)
  assert.equal(literal.code, 1)
  assert.match(literal.stderr, /log\.level: must be one of/)
  assert.doesNotMatch(literal.stderr, /environment variable/)

  await writeFile(file, (await readFile(file, 'utf8')).replace('$${literal}', 'info'))
  const ok = await check(file, env)
  assert.equal(ok.code, 0, ok.stderr)
  const resolved = JSON.parse(ok.stdout)
  assert.deepEqual(resolved.forward.listen, { host: '127.0.0.1', port: 3999 })
  assert.equal(resolved.forward.parent.username, 'up')
  // Secrets read this way are still masked by --check.
  assert.equal(resolved.forward.parent.password, '<set>')
  assert.equal(resolved.admin.token, '<set>')
  assert.equal(resolved.redis.connection.url, 'redis://:<set>@127.0.0.1:6379/0')
  assert.ok(!ok.stdout.includes('s3cret-from-file') && !ok.stdout.includes('token-from-env-123'))

  // Missing: each variable and file is named with where it is used; no value is printed.
  const missing = await check(file, { PK_FORWARD_LISTEN: '127.0.0.1:3999' })
  assert.equal(missing.code, 1)
  assert.match(
    missing.stderr,
    /forward\.parent\.username: the environment variable PK_PARENT_USER \(\$\{PK_PARENT_USER\}\) is not set/,
  )
  assert.match(
    missing.stderr,
    /admin\.token: the environment variable PK_ADMIN_TOKEN \(\$\{PK_ADMIN_TOKEN\}\) is not set/,
  )
  await rm(secret)
  const noFile = await check(file, env)
  assert.equal(noFile.code, 1)
  assert.match(
    noFile.stderr,
    new RegExp(`forward\\.parent\\.password: cannot read ${secret} for \\$\\{file:${secret}\\}: ENOENT`),
  )
  assert.match(noFile.stderr, /redis: cannot read .* ENOENT/)
})
