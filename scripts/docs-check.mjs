#!/usr/bin/env node
// Docs that stay true (issue 25, item 6). Benchmark figures live in bench/RESULTS.md only: a package README
// or a source comment that quotes a measured figure or a run's date goes stale with the next run, so this
// fails on them (targets, limits that a test asserts, and units in prose are fine). And the architecture
// page's phase diagram names the owners of `onResponse`: they must be the packages whose code adds one.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const problems = []
const pkgDirs = ['packages', 'apps'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(d, p)))

function walk(dir, out = []) {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p, out)
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*'
const FIGURES = [
  [new RegExp(`\\b\\d{1,2} ${MONTH} 20\\d\\d\\b|\\b20\\d\\d-\\d\\d-\\d\\d\\b`), 'a date'],
  [/\b\d[\d,.]*k? req\/s\b/, 'a req/s figure'],
  [/\b\d[\d,.]*k? (?:user-space )?instructions\b/, 'an instruction count'],
  [/\b\d+(?:\.\d+)?x (?:@fastify\/)?http-proxy\b/, 'a ratio to http-proxy'],
  // A measured RSS reads like `94.4 MB`, `91-95 MB` or `peak … 90 MB`; a limit or a default (`64 MB`) is fine.
  [
    /\b\d+(?:\.\d+|-\d+) MB\b|\b(?:peak|RSS)\b(?! (?:under|below|stays|of at most))[^.;]{0,40}\b\d+ MB\b/,
    'a memory figure',
  ],
]
// UI labels and schema text are not measurements.
const SKIP = new Set(['apps/gateway/src/ops/dashboard-page.ts'])

for (const dir of pkgDirs) {
  const files = [join(dir, 'README.md'), ...walk(join(dir, 'src'))].filter((f) => !SKIP.has(f))
  for (const file of files) {
    let text
    try {
      text = readFileSync(join(root, file), 'utf8')
    } catch {
      continue
    }
    // In sources only comments are prose; in READMEs, everything but code blocks.
    const lines = text.split('\n')
    let fenced = false
    lines.forEach((line, i) => {
      if (file.endsWith('.md') && line.startsWith('```')) fenced = !fenced
      if (fenced) return
      const prose = file.endsWith('.ts') ? (line.match(/(?:\/\/|^\s*\*|\/\*\*?)(.*)$/)?.[1] ?? '') : line
      for (const [re, what] of FIGURES)
        if (re.test(prose))
          problems.push(
            `${file}:${i + 1}: ${what} (benchmark figures go in bench/RESULTS.md): ${line.trim()}`,
          )
    })
  }
}

// The owners of onResponse: the diagram's node against the code.
const arch = readFileSync(join(root, 'docs/architecture.md'), 'utf8')
const node = arch.match(/done\["onResponse — ([^<"]+)/)
if (node === null) problems.push('docs/architecture.md: the diagram has no "onResponse — owners" node')
else {
  const documented = node[1]
    .split(',')
    .map((s) => s.trim())
    .sort()
  const actual = pkgDirs
    .filter((dir) =>
      walk(join(dir, 'src')).some((f) =>
        /addHook\(\s*'onResponse'|addHook\(\s*phaseHook\(\s*'log'|\bonResponse\s*=\s*appendHook/.test(
          readFileSync(join(root, f), 'utf8'),
        ),
      ),
    )
    .map((dir) => dir.split('/')[1])
    .sort()
  if (documented.join() !== actual.join())
    problems.push(`docs/architecture.md: onResponse owners are "${documented}", the code's are "${actual}"`)
}

if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log('  ok docs: no benchmark figures in package READMEs or sources; onResponse owners match the code')
