#!/usr/bin/env node
// A package's prepack step: copies every repository document its README names (`docs/NAME.md`) into the
// package's own docs/ folder, so the published tarball holds what its README and --help point at. The copies
// are build output (gitignored); the repository's docs/ stays the one source.
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoDocs = fileURLToPath(new URL('../docs/', import.meta.url))
const readme = await readFile('README.md', 'utf8')
const names = [...new Set([...readme.matchAll(/\bdocs\/([\w.-]+\.md)\b/g)].map((m) => m[1]))]
if (names.length > 0) await mkdir('docs', { recursive: true })
for (const name of names) await copyFile(join(repoDocs, name), join('docs', name))
