# Shared by the scripts in build/: source it, then call ensure_packages.

# ensure_packages installs the Debian packages given that are not installed
# yet (as root, or through sudo), so a fresh machine needs no manual step.
ensure_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
			missing+=("$pkg")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	if ! command -v apt-get >/dev/null; then
		echo "$(basename "$0"): missing Debian packages: ${missing[*]} (and no apt-get to install them)" >&2
		return 1
	fi
	local sudo=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null; then
			echo "$(basename "$0"): missing Debian packages: ${missing[*]}; install them as root" >&2
			return 1
		fi
		sudo=(sudo)
	fi
	echo "$(basename "$0"): installing ${missing[*]}" >&2
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
