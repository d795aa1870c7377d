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
set +e
pnpm install --frozen-lockfile --reporter=append-only > .pnpm-install.log 2>&1
status=$?
set -e
grep -v -i 'update available\|changelog\|to update, run\|^progress' .pnpm-install.log | tail -n 15 || true
rm -f .pnpm-install.log
[ "$status" -eq 0 ] || { echo "pnpm install failed (exit $status)" >&2; exit "$status"; }
echo "› build (tsc -b through turbo)"
pnpm run build --output-logs=errors-only
