#!/usr/bin/env bash
# Writes the Windows resources of feedkey's programs, an icon (assets/icons/
# ok.ico) and a version resource carrying VERSION, as rsrc_windows_<arch>.syso
# beside each main package, which `go build` links into Windows builds only
# (the file name's suffix is its build constraint). One .syso per released
# architecture: amd64 and arm64.
#
#   build/winres.sh VERSION     e.g. build/winres.sh 1.2.3
#
# The tool is go-winres, pinned in go.mod (`tool` directive); the configs are
# build/winres/*.json. app/feedkey's resources serve both feedkey.exe and
# feedkey-tray.exe (one package, two link modes), so its config names no
# original file name. The .syso files are build products (.gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: build/winres.sh VERSION}
for pair in app/feedkey:feedkey helper/feedkey-keyring:keyring; do
	dir=${pair%%:*} config=${pair#*:}
	go tool go-winres make --in "build/winres/$config.json" --out "$dir/rsrc" --arch amd64,arm64 \
		--product-version "$version" --file-version "$version"
done
