#!/usr/bin/env bash
# Builds feedkey and its helper into bin/ for this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
CGO_ENABLED=${CGO_ENABLED:-0} go build -trimpath -o bin/ ./app/feedkey ./helper/feedkey-keyring
echo "built bin/feedkey and bin/feedkey-keyring"
