#!/usr/bin/env bash
# Runs every check and test of feedkey with real parts: Debian's gnome-keyring
# on private D-Bus sessions, real pip, Python keyring. Installs the Debian
# packages the tests need when they are missing. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# The real parts the tests use: the session bus, gnome-keyring's Secret
# Service, secret-tool, Python keyring (interop), venv (real pip), curl (the
# tests' browser), git (its http-backend serves the simulator's Azure Repos),
# and the tools keyrings.feedkey serves: twine, Poetry, pipx (python3-build
# and setuptools build its wheel).
source build/lib.sh
ensure_packages gnome-keyring dbus libsecret-tools python3-keyring python3-venv curl chromium git \
  python3-build python3-setuptools twine python3-poetry pipx
command -v python3 >/dev/null || { echo "python3 (with venv and pip >= 23.1) is needed on PATH" >&2; exit 1; }

echo "== gofmt, go vet"
unformatted=$(gofmt -l .)
[[ -z $unformatted ]] || { echo "gofmt would change: $unformatted" >&2; exit 1; }
go vet ./...
GOOS=windows go vet ./...
GOOS=darwin CGO_ENABLED=0 go vet ./...

echo "== cross-compile (CGO_ENABLED=0)"
for target in linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64; do
  GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0 go build -o /dev/null ./app/feedkey ./helper/feedkey-keyring 2>&1 \
    || { echo "build for $target failed" >&2; exit 1; }
  GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0 go build ./...
done

# A temporary HOME, and a session bus with no keyring on it: tests start their
# own buses with gnome-keyring; anything that strays to this one fails loudly
# instead of touching the user's real keychain.
# Go's caches stay where they are, so a rerun is fast.
export GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share XDG_CACHE_HOME=$home/.cache

echo "== tests"
dbus-run-session -- go test -count=1 ./...

echo "== the kernel keyring quota (alone: it fills the quota every test process shares)"
FEEDKEY_KEYCTL_QUOTA=1 go test -count=1 -run '^TestKeyctlQuota$' ./auth/store

echo "== race detector (in-process packages)"
dbus-run-session -- go test -count=1 -race ./auth/... ./app/cli ./config ./control ./app/creds ./app/daemon ./app/page ./app/schedule ./helper/keyringcli ./helper/pykeyring ./simulator

echo "== fuzz (briefly)"
# A count, not a duration: Go 1.26's fuzzing coordinator can report its own
# -fuzztime deadline as a failure ("context deadline exceeded", no crasher)
# when a worker is mid-run at the end (golang/go#75804, fixed in Go 1.27).
# 250,000 runs take 6-13 s per target here.
fuzztime=${FUZZTIME:-250000x}
go test -run='^$' -fuzz='^FuzzResolve$' -fuzztime="$fuzztime" ./auth/feed
go test -run='^$' -fuzz=FuzzResolveRepo -fuzztime="$fuzztime" ./auth/feed
go test -run='^$' -fuzz=FuzzRead -fuzztime="$fuzztime" ./internal/gitcred
go test -run='^$' -fuzz=FuzzParse -fuzztime="$fuzztime" ./helper/pykeyring
go test -run='^$' -fuzz=FuzzURL -fuzztime="$fuzztime" ./auth/untrusted
dbus-run-session -- go test -run='^$' -fuzz=FuzzParseReplies -fuzztime="$fuzztime" ./auth/store
dbus-run-session -- go test -run='^$' -fuzz=FuzzDecodeObject -fuzztime="$fuzztime" ./auth/store

echo "== Windows builds under Wine (private WINEPREFIX; skipped with the reason when Wine cannot be installed)"
build/wine-test.sh

echo "== release: the snapshot build, its checksums, the .deb installed and used with real pip, then purged"
build/release-check.sh

echo "== all checks passed"
