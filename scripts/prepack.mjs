#!/usr/bin/env node
// A package's prepack step (after its build): copies the repository's LICENSE, and every repository document
// its README names (`docs/NAME.md`), into the package folder, so the published tarball holds the license its
// package.json names and what its README and --help point at. The copies are build output (gitignored);
// the repository's LICENSE and docs/ stay the one source.
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../', import.meta.url))
await copyFile(join(repo, 'LICENSE'), 'LICENSE')
const readme = await readFile('README.md', 'utf8')
const names = [...new Set([...readme.matchAll(/\bdocs\/([\w.-]+\.md)\b/g)].map((m) => m[1]))]
if (names.length > 0) await mkdir('docs', { recursive: true })
for (const name of names) await copyFile(join(repo, 'docs', name), join('docs', name))
