import bcrypt from 'bcryptjs'

/** bcrypt's cost for new hashes (2^10 rounds: tens of ms a check); the auth plugin caches a verified login. */
const COST = 10

/** Reads every byte of stdin; the password is its text less one final line break. */
async function readPiped(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/**
 * Prompts on the terminal without echoing what is typed (raw mode: every key arrives here, nothing is
 * printed back). Resolves null on Ctrl-C or Ctrl-D.
 */
function prompt(question: string): Promise<string | null> {
  const stdin = process.stdin
  // Raw mode before the prompt shows: a key typed as soon as it appears must not be echoed either.
  stdin.setRawMode(true)
  stdin.resume()
  stdin.setEncoding('utf8')
  process.stderr.write(question)
  let typed = ''
  return new Promise((resolve) => {
    const done = (value: string | null) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      resolve(value)
    }
    const onData = (keys: string) => {
      for (const key of keys) {
        if (key === '\r' || key === '\n') return done(typed)
        if (key === '\u0003' || key === '\u0004') return done(null)
        if (key === '\u007f' || key === '\b') typed = typed.slice(0, -1)
        else if (key >= ' ') typed += key
      }
    }
    stdin.on('data', onData)
  })
}

/**
 * `proxykit-gateway hash-password`: a bcrypt hash for `forward.auth.users`, from a password typed at a
 * prompt (twice, not echoed) or piped on stdin. The exit code follows the CLI's: 0, 1 (mismatch), 2 (usage).
 */
export async function hashPasswordCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    const help = args[0] === '--help' || args[0] === '-h'
    ;(help ? process.stdout : process.stderr).write(
      `usage: proxykit-gateway hash-password < password-file\n       proxykit-gateway hash-password      (prompts, without echo)\n\nPrints a bcrypt hash for forward.auth.users. The password is never an argument: arguments are\nvisible to every user of the machine (ps) and stay in the shell's history.\n`,
    )
    return help ? 0 : 2
  }
  let password: string | null
  if (process.stdin.isTTY) {
    password = await prompt('Password: ')
    if (password !== null && password !== '') {
      const again = await prompt('Again: ')
      if (again !== password) {
        process.stderr.write('proxykit-gateway: the passwords differ; nothing printed\n')
        return 1
      }
    }
  } else {
    password = await readPiped()
  }
  if (password === null || password === '') {
    process.stderr.write('proxykit-gateway: hash-password: no password given (empty)\n')
    return 2
  }
  process.stdout.write(`${await bcrypt.hash(password, COST)}\n`)
  return 0
}
