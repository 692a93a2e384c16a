#!/usr/bin/env bash
# Builds feedkey and its helper into bin/ for this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# On Windows (Git Bash), the programs' icon and version resources: an
# unstamped build says "dev", and so does its version resource.
if [[ $(go env GOOS) == windows ]]; then
	build/winres.sh dev
fi
CGO_ENABLED=${CGO_ENABLED:-0} go build -trimpath -o bin/ ./app/feedkey ./helper/feedkey-keyring
echo "built bin/feedkey and bin/feedkey-keyring"
