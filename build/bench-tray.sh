#!/usr/bin/env bash
# Runs the SPEC §10 tray idle benchmark: resident memory and CPU of the
# tray (`feedkey` with no arguments) with three signed-in feeds, on a
# private D-Bus session with gnome-keyring and the simulators. Arguments go
# to the benchmark (go run ./build/benchtray -h lists them), e.g.
# build/bench-tray.sh -duration 2m -strict.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages the benchmark needs: the session bus and Secret Service.
source build/lib.sh
ensure_packages gnome-keyring dbus

exec go run ./build/benchtray "$@"
