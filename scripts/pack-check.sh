#!/usr/bin/env bash
# Publishability: pack every publishable package with pnpm (workspace: and catalog: ranges become real
# versions), install the tarballs with plain npm into a throwaway project outside the workspace, and
# register each plugin in a plain Fastify app that answers a request; then check what a user gets: the
# LICENSE, the registry metadata, caret ranges and README links that work on npm (scripts/pack-check.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/proxykit-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
for dir in packages/core packages/forward-proxy packages/reverse-proxy packages/cache packages/access-control apps/gateway; do
  (cd "$dir" && pnpm pack --pack-destination "$work" >/dev/null)
done
ls "$work"/*.tgz | sed 's/^/  packed /'
cd "$work"
fastify=$(node -p "require('$OLDPWD/packages/core/node_modules/fastify/package.json').version")
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --loglevel=error ./*.tgz "fastify@$fastify" ioredis selfsigned >/dev/null
cp "$OLDPWD/scripts/pack-check.mjs" ./check.mjs
node check.mjs "$OLDPWD"
