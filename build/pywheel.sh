#!/usr/bin/env bash
# Builds the keyrings.feedkey wheel (helper/python) for a release, with
# Debian's python3-build and setuptools, offline (no build isolation), into
# build/out/python/. The release's version (GoReleaser's, e.g.
# 1.2.0-snapshot+0123abcd) becomes a PEP 440 one (1.2.0.dev0+0123abcd).
# File times come from the commit (SOURCE_DATE_EPOCH), so the wheel is
# reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: build/pywheel.sh VERSION}
base=${version%%[-+]*}
rest=${version#"$base"}
pep440=$base
case $rest in
  "") ;;
  -*+*) pep440="$base.dev0+${rest#*+}" ;;
  +*) pep440="$base+${rest#+}" ;;
  *) pep440="$base.dev0" ;;
esac
pep440=$(printf '%s' "$pep440" | tr -c 'A-Za-z0-9.+\n' '.')

out=build/out/python
rm -rf "$out"
mkdir -p "$out"
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r helper/python/. "$src"
sed -i "s/^version = \".*\"/version = \"$pep440\"/" "$src/pyproject.toml"
export SOURCE_DATE_EPOCH=${FEEDKEY_COMMIT_TIME:-$(git log -1 --format=%ct)}
# Debian's Python (python3-build), from outside the tree: here, build/
# would shadow the build module.
(cd "$src" && /usr/bin/python3 -m build --wheel --no-isolation --outdir "$OLDPWD/$out" . >build.log 2>&1) ||
  { cat "$src/build.log" >&2; echo "pywheel: building keyrings.feedkey failed (needs Debian's python3-build and python3-setuptools)" >&2; exit 1; }
# The wheel's file name as the packaging spec spells it (setuptools before
# 69 keeps the dot of keyrings.feedkey).
for w in "$out"/*.whl; do
  n=$(basename "$w")
  [[ $n == keyrings_feedkey-* ]] || mv "$w" "$out/keyrings_feedkey-${n#keyrings.feedkey-}"
done
ls "$out"
