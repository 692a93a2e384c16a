#!/usr/bin/env bash
# Runs the SPEC §10 tray idle benchmark: resident memory and CPU of the
# tray (`feedkey` with no arguments) with three signed-in feeds, on a
# private D-Bus session with gnome-keyring and the simulators. Arguments go
# to the benchmark (go run ./build/benchtray -h lists them), e.g.
# build/bench-tray.sh -duration 2m -strict.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages the benchmark needs: the session bus and Secret Service.
packages=(gnome-keyring dbus)

missing=()
for pkg in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} > 0)); then
	if ! command -v apt-get >/dev/null; then
		echo "bench-tray.sh: missing Debian packages: ${missing[*]} (and no apt-get to install them)" >&2
		exit 1
	fi
	sudo=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null; then
			echo "bench-tray.sh: missing Debian packages: ${missing[*]}; install them as root" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	echo "bench-tray.sh: installing ${missing[*]}" >&2
	"${sudo[@]}" apt-get update
	"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

exec go run ./build/benchtray "$@"
