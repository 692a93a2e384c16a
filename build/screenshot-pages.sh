#!/usr/bin/env bash
# Takes the README's screenshots of feedkey's local pages (the overview with
# the Add form, an Add error, the sign-in page before and after approval):
# TestPages drives them in headless Chromium against the real tray and the
# simulator, and saves what it sees into assets/. Installs Chromium from
# Debian when missing. Nothing of the person's own bus or keychain is used.
set -euo pipefail
cd "$(dirname "$0")/.."
source build/lib.sh
ensure_packages chromium dbus gnome-keyring python3-venv
export GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share XDG_CACHE_HOME=$home/.cache
FEEDKEY_SCREENSHOTS=$PWD/assets dbus-run-session -- go test -count=1 -run '^TestPages$' ./app/feedkey
ls -l assets/screenshot-{add-error,overview,signin,signin-done}.png
