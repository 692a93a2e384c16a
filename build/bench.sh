#!/usr/bin/env bash
# Runs the SPEC §10 benchmark: feedkey's keyring helper against Debian's
# Python keyring on a private gnome-keyring. Arguments go to the benchmark
# (go run ./build/bench -h lists them), e.g. build/bench.sh -n 500 -strict.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages the benchmark needs: the session bus and Secret Service,
# Python keyring as the baseline, and secret-tool to check where it stored.
packages=(gnome-keyring dbus python3-keyring libsecret-tools)

missing=()
for pkg in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} > 0)); then
	if ! command -v apt-get >/dev/null; then
		echo "bench.sh: missing Debian packages: ${missing[*]} (and no apt-get to install them)" >&2
		exit 1
	fi
	sudo=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null; then
			echo "bench.sh: missing Debian packages: ${missing[*]}; install them as root" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	echo "bench.sh: installing ${missing[*]}" >&2
	"${sudo[@]}" apt-get update
	"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

exec go run ./build/bench "$@"
