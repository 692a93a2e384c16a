#!/usr/bin/env bash
# The main job for a newcomer: build feedkey, put its helper on PATH as
# `keyring` (in ~/.local/bin), then start the tray — or, when no feed is
# configured yet, `feedkey demo` against the built-in simulator.
# Arguments are passed to feedkey instead (e.g. build/run.sh add URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/build.sh
bin/feedkey install-helper
if (($#)); then
  exec bin/feedkey "$@"
fi
if bin/feedkey status --json 2>/dev/null | grep -q '"id":'; then
  exec bin/feedkey          # the tray, over your feeds
fi
exec bin/feedkey demo       # no feeds yet: try it against the simulator
