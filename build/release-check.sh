#!/usr/bin/env bash
# CI's check of the release (build/test.sh runs it): the snapshot release
# (build/release.sh, checksums verified); then the amd64 .deb is installed
# with dpkg, the installed programs say their version, the end-to-end pip
# test runs against them (FEEDKEY_TEST_INSTALLED), and the package is purged,
# leaving the machine as it was.
set -euo pipefail
cd "$(dirname "$0")/.."

build/release.sh
deb=$(ls dist/feedkey_*_amd64.deb)
echo "== $deb"
dpkg-deb --contents "$deb" | awk '{print $6, $7, $8}'

sudo=()
if ((EUID != 0)); then
  if ! sudo -n true 2>/dev/null; then
    echo "release-check: the release is built and its checksums hold; installing the .deb needs root (or sudo without a password), so it is not installed here" >&2
    exit 0
  fi
  sudo=(sudo -n)
fi
if dpkg-query -W -f='${Status}' feedkey 2>/dev/null | grep -q 'install ok installed'; then
  if dpkg-query -W -f='${Version}' feedkey | grep -q -- '-snapshot+'; then
    echo "   (purging the snapshot package an interrupted check left)"
    "${sudo[@]}" dpkg --purge feedkey >/dev/null
  else
    echo "release-check: a released feedkey package is installed here; not replacing it (the .deb was built and checked, not installed)" >&2
    exit 1
  fi
fi
"${sudo[@]}" dpkg -i "$deb" >/dev/null
trap '"${sudo[@]}" dpkg --purge feedkey >/dev/null' EXIT

want=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' dist/metadata.json | head -1)
for prog in feedkey feedkey-keyring; do
  got=$(/usr/bin/$prog --version)
  echo "   $got"
  [[ $got == "$prog version $want "* ]] || { echo "release-check: /usr/bin/$prog --version says \"$got\", want version $want" >&2; exit 1; }
done
[[ $(readlink /usr/lib/feedkey/bin/keyring) == /usr/bin/feedkey-keyring ]] || { echo "release-check: /usr/lib/feedkey/bin/keyring is not the helper" >&2; exit 1; }

whl=$(ls /usr/share/feedkey/keyrings_feedkey-*-py3-none-any.whl)
[[ $(/usr/bin/python3 -m zipfile -l "$whl") == *keyrings/feedkey.py* ]] || { echo "release-check: $whl lacks keyrings/feedkey.py" >&2; exit 1; }
echo "   $whl"
# `feedkey setup` points Poetry at the installed wheel.
scratch=$(mktemp -d)
printf 'tok\n' | HOME=$scratch XDG_DATA_HOME=$scratch FEEDKEY_STORE=file FEEDKEY_CONFIG=$scratch/config.toml \
  /usr/bin/feedkey add https://pkgs.example.invalid/simple/ --kind token >/dev/null
setup=$(HOME=$scratch FEEDKEY_CONFIG=$scratch/config.toml /usr/bin/feedkey setup poetry)
rm -rf "$scratch"
[[ $setup == *"poetry self add $whl"* ]] || { echo "release-check: feedkey setup poetry does not install $whl:" >&2; echo "$setup" >&2; exit 1; }

echo "== real pip through the installed helper"
FEEDKEY_TEST_INSTALLED=/usr/lib/feedkey/bin dbus-run-session -- go test -count=1 -run '^TestPipInstallsWithStaticToken$' ./app/feedkey

"${sudo[@]}" dpkg --purge feedkey >/dev/null
trap - EXIT
for f in /usr/bin/feedkey /usr/bin/feedkey-keyring /usr/lib/feedkey; do
  [[ ! -e $f ]] || { echo "release-check: $f is left after dpkg --purge" >&2; exit 1; }
done
echo "== release check passed (the package is purged)"
