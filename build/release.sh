#!/usr/bin/env bash
# The release build: GoReleaser v2 (.goreleaser.yaml) in snapshot mode,
# offline, into dist/:
#   - tar.gz archives (zip on Windows) for linux, windows and darwin × amd64,
#     arm64, each with feedkey, feedkey-keyring (and on Windows the GUI tray
#     feedkey-tray.exe), README, LICENSE and shell completions;
#   - feedkey_*.deb and feedkey-*.rpm for linux amd64 and arm64;
#   - checksums.txt (sha256), checked here;
#   - a Homebrew cask, a Scoop manifest and winget manifests (not published);
#   - macos/feedkey.app: the layout of the macOS app bundle (Info.plist with
#     LSUIElement, the icon). The tray needs cgo, so a Mac fills it:
#       CGO_ENABLED=1 go build -trimpath -o dist/macos/feedkey.app/Contents/MacOS/feedkey ./app/feedkey
#     (the darwin archives carry CGO_ENABLED=0 builds: every command, no tray).
# No SBOM: GoReleaser's sboms run syft, which Debian does not package and
# which this offline build cannot fetch.
#
#   build/release.sh                 the whole matrix (a few minutes)
#   build/release.sh --single-target linux/amd64 only (CI: build/release-check.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

goreleaser_version=v2.15.1
tools=$(go env GOPATH)/bin
goreleaser=$tools/goreleaser-$goreleaser_version
if [[ ! -x $goreleaser ]]; then
  echo "== installing GoReleaser $goreleaser_version from the Go module proxy (once)"
  tmp=$(mktemp -d)
  GOBIN=$tmp go install "github.com/goreleaser/goreleaser/v2@$goreleaser_version"
  mkdir -p "$tools"
  mv "$tmp/goreleaser" "$goreleaser"
  rm -rf "$tmp"
fi

single=()
if [[ ${1:-} == --single-target ]]; then
  single=(--single-target)
  export GOOS=linux GOARCH=amd64
fi

echo "== goreleaser release --snapshot"
start=$SECONDS
"$goreleaser" release --snapshot --clean --skip=publish,announce,sign,sbom "${single[@]}"

echo "== checksums"
(cd dist && sha256sum --check --quiet checksums.txt)

version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' dist/metadata.json | head -1)
app=dist/macos/feedkey.app/Contents
mkdir -p "$app/MacOS" "$app/Resources"
sed "s/VERSION/${version%%-*}/g" build/package/macos/Info.plist >"$app/Info.plist"
cp assets/icons/ok.png "$app/Resources/feedkey.png"
cp dist/feedkey-keyring_darwin_arm64*/feedkey-keyring "$app/MacOS/" 2>/dev/null || true
cat >dist/macos/README.txt <<'TXT'
feedkey.app: the macOS bundle layout. On a Mac with Go and the Xcode command
line tools, fill it with the tray build (it needs cgo) and an .icns icon:

  CGO_ENABLED=1 go build -trimpath -o dist/macos/feedkey.app/Contents/MacOS/feedkey ./app/feedkey
  go build -trimpath -o dist/macos/feedkey.app/Contents/MacOS/feedkey-keyring ./helper/feedkey-keyring
  iconutil / sips: make Contents/Resources/feedkey.icns from assets/icons/ok.png

Info.plist sets LSUIElement: a menu-bar app with no Dock icon.
TXT

echo "== dist/ ($((SECONDS - start)) s)"
find dist -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' -o -name '*.deb' -o -name '*.rpm' -o -name 'checksums.txt' \) -printf '%10s  %f\n' | sort -k2
find dist -name '*.rb' -o -name '*.json' -path '*scoop*' -o -path '*winget*' -name '*.yaml' | sort
