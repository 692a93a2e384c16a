#!/usr/bin/env bash
# The main job for a newcomer: build feedkey, install it and its helper (as
# `keyring`) in ~/.local/bin, then start the installed tray — or, when no feed
# is configured yet, `feedkey demo` against the built-in simulator.
# Arguments are passed to feedkey instead (e.g. build/run.sh add URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/build.sh
dir=${FEEDKEY_INSTALL_DIR:-$HOME/.local/bin}
bin/feedkey install --dir "$dir"
feedkey=$dir/feedkey        # start at login then points at the installed copy
if (($#)); then
  exec "$feedkey" "$@"
fi
if "$feedkey" status --json 2>/dev/null | grep -q '"id":'; then
  exec "$feedkey"           # the tray, over your feeds
fi
exec "$feedkey" demo        # no feeds yet: try it against the simulator
