#!/usr/bin/env bash
# The release, rehearsed without publishing: a throwaway copy of the repository (tracked files, built dist/
# and the installed node_modules linked in) gets a patch changeset for every published package, then
# `changeset version` and `pnpm -r publish --dry-run` run there as a release would. Only the npm registry is
# asked (whether a version exists); nothing is published and the repository itself is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/proxykit-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$work"
ln -s "$repo/node_modules" "$work/node_modules"
packages=()
for dir in packages/* apps/*; do
  [ -f "$dir/package.json" ] || continue
  [ "$(node -p "require('./$dir/package.json').private === true")" = true ] && continue
  packages+=("$dir")
  # The packages' own node_modules hold relative links (into the root store and to sibling packages).
  cp -a "$dir/node_modules" "$work/$dir/node_modules"
  [ -d "$dir/dist" ] && cp -a "$dir/dist" "$work/$dir/dist"
done
[ -d bench/node_modules ] && cp -a bench/node_modules "$work/bench/node_modules"
cd "$work"
{
  echo '---'
  for dir in "${packages[@]}"; do echo "\"$(node -p "require('./$dir/package.json').name")\": patch"; done
  echo '---'
  echo
  echo 'Release rehearsal (CI only).'
} > .changeset/ci-release-rehearsal.md
pnpm exec changeset version >changeset.log 2>&1 || { cat changeset.log; exit 1; }
pnpm -r publish --dry-run --no-git-checks --json >publish.json 2>publish.log || { cat publish.log; exit 1; }
node --input-type=module - "$repo" "${packages[@]}" <<'CHECK'
// Every published package would go out once, at a version above its old one (the rehearsal's patch, or what
// the pending changesets ask), with its license, README and
// built entry point, and a CHANGELOG.md written by `changeset version`.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
const [repo, ...dirs] = process.argv.slice(2)
const published = JSON.parse(readFileSync('publish.json', 'utf8'))
assert.equal(published.length, dirs.length, `publish --dry-run packed ${published.map((p) => p.id)}`)
for (const dir of dirs) {
  const before = JSON.parse(readFileSync(`${repo}/${dir}/package.json`, 'utf8'))
  const next = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')).version
  const parts = (v) => v.split('.').map(Number)
  const newer = parts(next).findIndex((n, i) => n !== parts(before.version)[i])
  assert.ok(newer !== -1 && parts(next)[newer] > parts(before.version)[newer], `${dir}: ${before.version} -> ${next}`)
  assert.ok(existsSync(`${dir}/CHANGELOG.md`), `changeset version wrote no ${dir}/CHANGELOG.md`)
  const entry = published.find((p) => p.name === before.name)
  assert.ok(entry, `${before.name} is not in the publish dry run`)
  assert.equal(entry.version, next, before.name)
  const files = new Set(entry.files.map((f) => f.path))
  for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts'])
    assert.ok(files.has(f), `${before.name}@${next} would be published without ${f}`)
  console.log(`  ok ${before.name}@${next} would be published (${files.size} files)`)
}
CHECK
