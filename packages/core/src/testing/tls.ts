let cached: Promise<{ key: string; cert: string }> | undefined

/**
 * A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, generated once per process
 * (needs the optional peer dependency `selfsigned`).
 */
export function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  cached ??= (async () => {
    const { generate } = await import('selfsigned')
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    } as never)
    return { key: pems.private, cert: pems.cert }
  })()
  return cached
}
