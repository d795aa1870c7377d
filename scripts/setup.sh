#!/usr/bin/env bash
# Sets up a fresh clone: pnpm 12.4.2 into .tools/ (corepack fails on this kind of machine), the
# workspace's dependencies from the lockfile, and a build. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 NEXT_TELEMETRY_DISABLED=1
if [ ! -x .tools/bin/pnpm ] || [ "$(.tools/bin/pnpm --version 2>/dev/null)" != "12.4.2" ]; then
  echo "› installing pnpm 12.4.2 into .tools/"
  npm install --global --prefix .tools --allow-scripts=pnpm --no-audit --no-fund --loglevel=error pnpm@12.4.2
fi
export PATH="$PWD/.tools/bin:$PATH"
echo "› pnpm install --frozen-lockfile"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -v -i 'update available\|changelog\|to update, run' || true
test -d node_modules/.pnpm || { echo "pnpm install failed" >&2; exit 1; }
echo "› build (tsc -b through turbo)"
pnpm run build --output-logs=errors-only
