import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { verifyPassword } from '@proxykit/access-control'
import { CLI, runCli, writeConfig } from './helpers/cli.js'

/** Runs `proxykit-gateway hash-password` with `input` piped on stdin. */
async function hashPiped(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'hash-password'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => {
    stdout += c
  })
  child.stderr.on('data', (c) => {
    stderr += c
  })
  child.stdin.end(input)
  const [code] = await once(child, 'close')
  return { code: code as number | null, stdout, stderr }
}

// Issue 26 item 16: the documented `node -e "import('@proxykit/access-control')…"` failed with
// ERR_MODULE_NOT_FOUND outside the package; the CLI makes the hash itself, wherever it is installed.
test('hash-password prints a bcrypt hash of the piped password that the config and the auth accept', async (t) => {
  const r = await hashPiped('correct horse battery\n')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^\$2b\$10\$[./A-Za-z0-9]{53}\n$/)
  const hash = r.stdout.trim()
  assert.equal(await verifyPassword('correct horse battery', hash), true)
  assert.equal(
    await verifyPassword('correct horse battery\n', hash),
    false,
    'the final line break is not part of it',
  )
  const file = await writeConfig(t, { forward: { listen: '127.0.0.1:0', auth: { users: { alice: hash } } } })
  const check = await runCli(['--check', '--config', file])
  assert.equal(check.code, 0, check.stderr)
})

test('hash-password refuses an empty password and never takes one as an argument', async () => {
  const empty = await hashPiped('')
  assert.equal(empty.code, 2)
  assert.match(empty.stderr, /no password given/)
  assert.equal(empty.stdout, '')
  const argument = await runCli(['hash-password', 'secret'])
  assert.equal(argument.code, 2)
  assert.match(argument.stderr, /never an argument/)
})

// A terminal: the prompt must not echo. python3's pty module gives the CLI a real pseudo-terminal.
const PTY_DRIVER = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def until(marker, seconds=20):
    global out
    end = time.time() + seconds
    while marker not in out and time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
until(b'Password: ')
os.write(fd, b'typed secret\\r')
until(b'Again: ')
os.write(fd, b'typed secret\\r')
until(b'$2b$')
until(b'\\n', 5)
os.waitpid(pid, 0)
sys.stdout.write(out.decode())
`

test('hash-password at a terminal prompts twice without echoing what is typed', async () => {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      'python3',
      ['-c', PTY_DRIVER, process.execPath, CLI, 'hash-password'],
      { timeout: 60_000 },
      (err, stdout) => (err === null ? resolve(stdout) : reject(err)),
    )
  })
  assert.match(out, /Password: /)
  assert.match(out, /Again: /)
  assert.ok(!out.includes('typed secret'), `the password was echoed: ${JSON.stringify(out)}`)
  const hash = /\$2b\$10\$[./A-Za-z0-9]{53}/.exec(out)?.[0]
  assert.ok(hash !== undefined, out)
  assert.equal(await verifyPassword('typed secret', hash), true)
})
