#!/usr/bin/env bash
# The release build: GoReleaser v2 (.goreleaser.yaml) in snapshot mode,
# offline, into dist/:
#   - tar.gz archives (zip on Windows) for linux, windows and darwin × amd64,
#     arm64, each with feedkey, feedkey-keyring (and on Windows the GUI tray
#     feedkey-tray.exe), README, LICENSE and shell completions;
#   - feedkey_*.deb and feedkey-*.rpm for linux amd64 and arm64;
#   - keyrings_feedkey-*.whl (helper/python, built by build/pywheel.sh), also
#     in every archive and in the packages' /usr/share/feedkey;
#   - checksums.txt (sha256), checked here;
#   - in the Windows programs, the icon and a version resource of the
#     release's version (build/winres.sh), checked here;
#   - a Homebrew cask, a Scoop manifest and winget manifests (not published);
#   - macos/feedkey.app: the layout of the macOS app bundle (Info.plist with
#     LSUIElement, the icon). The tray needs cgo, so a Mac fills it:
#       CGO_ENABLED=1 go build -trimpath -o dist/macos/feedkey.app/Contents/MacOS/feedkey ./app/feedkey
#     (the darwin archives carry CGO_ENABLED=0 builds: every command, no tray).
# No SBOM: GoReleaser's sboms run syft, which Debian does not package and
# which this offline build cannot fetch.
# CI runs it too, through build/release-check.sh: about 3 minutes with cold
# build caches here, 25 s warm, plus 4 minutes to install GoReleaser once.
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

FEEDKEY_COMMIT=$(git rev-parse HEAD)
FEEDKEY_COMMIT_DATE=$(git log -1 --format=%cI)
FEEDKEY_COMMIT_TIME=$(git log -1 --format=%ct)
export FEEDKEY_COMMIT FEEDKEY_COMMIT_DATE FEEDKEY_COMMIT_TIME

echo "== goreleaser release --snapshot"
start=$SECONDS
"$goreleaser" release --snapshot --clean --skip=publish,announce,sign,sbom

# The keyrings.feedkey wheel is a release file of its own (checksums.txt
# lists it); the archives and packages carry it too.
cp build/out/python/*.whl dist/

echo "== checksums"
(cd dist && sha256sum --check --quiet checksums.txt)

version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' dist/metadata.json | head -1)

echo "== Windows subsystems, icons and version resources"
for arch in amd64_v1 arm64_v8.0; do
  python3 build/pe-resources.py assets/icons/ok.ico "$version" "dist/feedkey-tray_windows_$arch/feedkey-tray.exe" \
    "dist/feedkey_windows_$arch/feedkey.exe" "dist/feedkey-keyring_windows_$arch/feedkey-keyring.exe"
  # Not `tee /dev/stderr`: reopening stderr truncates a log it is written to.
  subsystems=$(python3 build/pe-subsystem.py "dist/feedkey-tray_windows_$arch/feedkey-tray.exe" "dist/feedkey_windows_$arch/feedkey.exe")
  echo "$subsystems"
  awk '/feedkey-tray.exe/ && $2 != "gui" || /feedkey.exe/ && $2 != "console" {bad = 1} END {exit bad}' <<<"$subsystems" ||
    { echo "release: feedkey-tray.exe must be a GUI program and feedkey.exe a console one" >&2; exit 1; }
done

app=dist/macos/feedkey.app/Contents
mkdir -p "$app/MacOS" "$app/Resources"
sed "s/VERSION/${version%%-*}/g" build/package/macos/Info.plist >"$app/Info.plist"
cp assets/icons/ok.png "$app/Resources/feedkey.png"
cat >dist/macos/README.txt <<'TXT'
feedkey.app: the macOS bundle layout. On a Mac with Go and the Xcode command
line tools, fill it with the tray build (it needs cgo) and an .icns icon:

  CGO_ENABLED=1 go build -trimpath -o dist/macos/feedkey.app/Contents/MacOS/feedkey ./app/feedkey
  go build -trimpath -o dist/macos/feedkey.app/Contents/MacOS/feedkey-keyring ./helper/feedkey-keyring
  iconutil / sips: make Contents/Resources/feedkey.icns from assets/icons/ok.png

Info.plist sets LSUIElement: a menu-bar app with no Dock icon.
TXT

echo "== dist/ ($((SECONDS - start)) s)"
find dist -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.zip' -o -name '*.deb' -o -name '*.rpm' -o -name '*.whl' -o -name 'checksums.txt' \) -printf '%10s  %f\n' | sort -k2
find dist -name '*.rb' -o -name '*.json' -path '*scoop*' -o -path '*winget*' -name '*.yaml' | sort
