import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'

const run = promisify(execFile)

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd })
}

/** A test CA made with the openssl CLI (ECDSA P-256), in its own temp dir removed after the test. */
export interface TestCa {
  dir: string
  /** The root certificate's file (what clients trust: `--cacert`). */
  certFile: string
  cert: string
  /** Issues a server certificate for `names` (SAN DNS entries; IPs as IP entries). */
  issue(names: string[], options?: IssueOptions): Promise<IssuedCert>
}

export interface IssueOptions {
  /** Subject CN (default: the first name). */
  cn?: string
  /** Signed by an intermediate CA, whose certificate follows the leaf in the cert file (a chain). */
  intermediate?: boolean
  /** File name stem (default: a counter). */
  stem?: string
}

export interface IssuedCert {
  certFile: string
  keyFile: string
  cert: string
  key: string
  /** The leaf's SHA-256 fingerprint (as X509Certificate says it), to tell certificates apart. */
  fingerprint: string
  /** base64 SHA-256 of the leaf's SubjectPublicKeyInfo (Chromium's --ignore-certificate-errors-spki-list). */
  spki: string
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

export async function createTestCa(t: TestContext): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-ca-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-days',
      '3',
      '-subj',
      '/CN=proxykit test root CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  )
  let intermediate = false
  let n = 0
  const ensureIntermediate = async () => {
    if (intermediate) return
    await writeFile(
      join(dir, 'int.ext'),
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
    )
    await openssl(
      [
        'req',
        ...EC,
        '-keyout',
        'int-key.pem',
        '-out',
        'int.csr',
        '-subj',
        '/CN=proxykit test intermediate CA',
      ],
      dir,
    )
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        'int.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        '-CAcreateserial',
        '-days',
        '3',
        '-out',
        'int.pem',
        '-extfile',
        'int.ext',
      ],
      dir,
    )
    intermediate = true
  }
  const certFile = join(dir, 'ca.pem')
  return {
    dir,
    certFile,
    cert: await readFile(certFile, 'utf8'),
    async issue(names, options = {}) {
      const stem = options.stem ?? `leaf${++n}`
      const san = names.map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(',')
      await writeFile(
        join(dir, `${stem}.ext`),
        `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
      )
      const cn = options.cn ?? names[0]!
      await openssl(
        ['req', ...EC, '-keyout', `${stem}-key.pem`, '-out', `${stem}.csr`, '-subj', `/CN=${cn}`],
        dir,
      )
      if (options.intermediate) await ensureIntermediate()
      const [ca, caKey] = options.intermediate ? ['int.pem', 'int-key.pem'] : ['ca.pem', 'ca-key.pem']
      await openssl(
        [
          'x509',
          '-req',
          '-in',
          `${stem}.csr`,
          '-CA',
          ca,
          '-CAkey',
          caKey,
          '-CAcreateserial',
          '-days',
          '2',
          '-out',
          `${stem}-leaf.pem`,
          '-extfile',
          `${stem}.ext`,
        ],
        dir,
      )
      const leaf = await readFile(join(dir, `${stem}-leaf.pem`), 'utf8')
      const cert = options.intermediate ? leaf + (await readFile(join(dir, 'int.pem'), 'utf8')) : leaf
      const certFile = join(dir, `${stem}.pem`)
      await writeFile(certFile, cert)
      const keyFile = join(dir, `${stem}-key.pem`)
      const x509 = new X509Certificate(leaf)
      const { createHash } = await import('node:crypto')
      const spki = createHash('sha256')
        .update(x509.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('base64')
      return {
        certFile,
        keyFile,
        cert,
        key: await readFile(keyFile, 'utf8'),
        fingerprint: x509.fingerprint256,
        spki,
      }
    },
  }
}

/** Replaces a file the way deployment tools do: a new file renamed over the old one (atomic). */
export async function replaceFile(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`
  await writeFile(tmp, content)
  await rename(tmp, file)
}

/**
 * The certificate a TLS server presents to `openssl s_client` (with `servername` as SNI, or none), as
 * its SHA-256 fingerprint, and the handshake's negotiated protocol line. Loopback only.
 */
export async function presentedCert(
  port: number,
  options: { servername?: string; args?: string[] } = {},
): Promise<{ fingerprint: string | null; output: string; ok: boolean }> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, ...(options.args ?? [])]
  if (options.servername !== undefined) args.push('-servername', options.servername)
  else args.push('-noservername')
  let output = ''
  let ok = true
  try {
    const child = execFile('openssl', args, { timeout: 30_000 })
    child.stdin?.end('')
    output = await new Promise<string>((resolve) => {
      let out = ''
      child.stdout?.on('data', (c) => {
        out += c
      })
      child.stderr?.on('data', (c) => {
        out += c
      })
      child.on('close', (code) => {
        ok = code === 0
        resolve(out)
      })
    })
  } catch (err) {
    ok = false
    output = String(err)
  }
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)
  return { fingerprint: pem === null ? null : new X509Certificate(pem[0]).fingerprint256, output, ok }
}

/** A TLS handshake on loopback: the peer certificate's fingerprint, or the error that ended it. */
export function handshake(
  port: number,
  servername?: string,
): Promise<{ fingerprint?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false })
    socket.setTimeout(20_000, () => socket.destroy(new Error('timed out')))
    socket.once('secureConnect', () => {
      resolve({ fingerprint: socket.getPeerCertificate().fingerprint256 })
      socket.destroy()
    })
    socket.once('error', (err) => resolve({ error: err.message }))
  })
}
