#!/usr/bin/env bash
# The whole test suite on a fresh machine (the README's second command, and what CI runs):
# system packages when missing, pnpm and dependencies, a Redis on a loopback port, lint, type-check and
# build, the type tests, every test with one closing summary line, then the publishability check and a
# release dry run.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
bash scripts/apt-ensure.sh redis-server:redis-server redis-sentinel:redis-sentinel curl:curl chromium:chromium h2load:nghttp2-client haproxy:haproxy openssl:openssl pebble:pebble
bash scripts/setup.sh
export PATH="$PWD/.tools/bin:$PATH"

redis_pid=""
cleanup() { if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [ -z "${REDIS_URL:-}" ]; then
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
  redis_pid=$!
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  export REDIS_URL="redis://127.0.0.1:$port"
  echo "› redis-server on $REDIS_URL (pid $redis_pid)"
fi

echo "› lint (biome check)"
pnpm exec biome check .
echo "› docs check (no benchmark figures outside bench/RESULTS.md; phase owners match the code)"
node scripts/docs-check.mjs
echo "› type-check"
pnpm exec tsc -b
echo "› type tests (tstyche)"
pnpm exec tstyche
echo "› tests"
node scripts/run-tests.mjs "$@"
echo "› publishability check"
bash scripts/pack-check.sh
echo "› release dry run (changeset version, pnpm -r publish --dry-run; nothing is published)"
bash scripts/release-dry-run.sh
