#!/usr/bin/env bash
# The main job for a newcomer: build feedkey, put its helper on PATH as
# `keyring` (in ~/.local/bin), then check the setup and show the feeds.
# Arguments are passed to feedkey instead (e.g. build/run.sh add URL --kind token).
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/build.sh
bin/feedkey install-helper
if (($#)); then
  exec bin/feedkey "$@"
fi
bin/feedkey doctor || true
exec bin/feedkey status
