#!/usr/bin/env bash
# Runs the SPEC §10 benchmark: feedkey's keyring helper against Debian's
# Python keyring on a private gnome-keyring. Arguments go to the benchmark
# (go run ./build/bench -h lists them), e.g. build/bench.sh -n 500 -strict.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages the benchmark needs: the session bus and Secret Service,
# Python keyring as the baseline, and secret-tool to check where it stored.
source build/lib.sh
ensure_packages gnome-keyring dbus python3-keyring libsecret-tools

exec go run ./build/bench "$@"
