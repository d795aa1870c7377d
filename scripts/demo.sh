#!/usr/bin/env bash
# The README's first command: set up a fresh clone and start the gateway on its built-in demo config.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node apps/gateway/dist/src/cli.js "$@"
