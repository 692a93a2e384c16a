#!/usr/bin/env bash
# Runs feedkey's Windows builds under Wine (Debian's wine 8.0) in a private
# WINEPREFIX: their icon and version resources; the store contract, feed
# matcher and notification tests as Windows test binaries; the CLI and the
# helper end to end as pip calls them, against Wine's Credential Manager;
# then the tray on a private Xvfb display, driven with xdotool (its menu,
# Start at login, a notification balloon, Quit). build/test.sh calls it; it
# runs alone too.
#
#   build/wine-test.sh                 the tests
#   build/wine-test.sh --screenshot    also writes the tray stage's capture (a
#                                      balloon and the menu) to
#                                      assets/screenshot-windows-tray.png
#
# Wine-only workarounds live here and in build/wine/, never in the product:
# Wine 8.0 lacks ProcessPrng, which Go >= 1.24 programs call at start, so a
# tiny bcryptprimitives.dll forwarding it to BCryptGenRandom is built with
# mingw and copied into the test prefix's system32 only (Go loads it from
# system32, not from beside the .exe).
set -euo pipefail
cd "$(dirname "$0")/.."
source build/lib.sh
screenshot=0
case ${1:-} in
--screenshot) screenshot=1 ;;
"") ;;
*) echo "usage: build/wine-test.sh [--screenshot]" >&2; exit 2 ;;
esac

if ! ensure_packages wine wine64 gcc-mingw-w64-x86-64-win32; then
	echo "== wine: SKIPPED: wine, wine64 and gcc-mingw-w64-x86-64-win32 could not be installed (see above)"
	exit 0
fi
start=$SECONDS
work=$(mktemp -d)
export WINEPREFIX=$work/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
xvfb= traywin= traygeom=
cleanup() {
	wineserver -k 2>/dev/null || true
	[[ -z $xvfb ]] || kill "$xvfb" 2>/dev/null || true
	rm -rf "$work"
	rm -f app/feedkey/rsrc_windows_*.syso helper/feedkey-keyring/rsrc_windows_*.syso
}
trap cleanup EXIT
# Nothing of the caller's session reaches the Windows programs: no display,
# no feedkey settings.
unset DISPLAY WAYLAND_DISPLAY $(compgen -e | grep '^FEEDKEY_' || true)

echo "== wine: prefix ($(wine --version))"
t0=$SECONDS
wineboot -i >"$work/wineboot.log" 2>&1 || { cat "$work/wineboot.log" >&2; exit 1; }
wineserver -w
echo "wineboot -i: $((SECONDS - t0)) s"
x86_64-w64-mingw32-gcc -shared -O2 -s -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
	build/wine/bcryptprimitives.c -lbcrypt
x86_64-w64-mingw32-gcc -municode -O2 -s -o "$work/pipeprime.exe" build/wine/pipeprime.c

echo "== wine: build the Windows programs and test binaries"
bin=$work/bin
mkdir -p "$bin"
# As the release does: the version stamped into the programs and into their
# version resources (build/winres.sh writes the .syso files the build links;
# the cleanup removes them, so no later build carries this test version).
version=0.0.0-winetest
build/winres.sh "$version"
stamp="-X github.com/feedkey/feedkey/internal/version.Version=$version"
export GOOS=windows GOARCH=amd64 CGO_ENABLED=0
go build -ldflags="$stamp" -o "$bin/feedkey.exe" ./app/feedkey
go build -ldflags="$stamp" -o "$bin/keyring.exe" ./helper/feedkey-keyring
go build -ldflags="-H=windowsgui $stamp" -o "$bin/feedkey-tray.exe" ./app/feedkey
go test -c -o "$bin/store.test.exe" ./auth/store
go test -c -o "$bin/feed.test.exe" ./auth/feed
go test -c -o "$bin/control.test.exe" ./control
go test -c -o "$bin/winpath.test.exe" ./internal/winpath
go test -c -o "$bin/notify.test.exe" ./tray/notify
unset GOOS GOARCH CGO_ENABLED

echo "== wine: icon and version resources"
python3 build/pe-resources.py assets/icons/ok.ico "$version" "$bin/feedkey.exe" "$bin/feedkey-tray.exe" "$bin/keyring.exe"
# The resource says what the program says.
said=$(wine "$bin/feedkey.exe" --version)
[[ $said == "feedkey version $version "* ]] || { echo "FAIL: feedkey.exe --version: $said, want version $version" >&2; exit 1; }

echo "== wine: store contract, feed matcher, control pipe, user PATH and notification tests"
wine "$bin/store.test.exe" -test.count=1
# The matcher tests read testdata/ relative to their directory.
(cd auth/feed && wine "$bin/feed.test.exe" -test.count=1)
# The control pipe: its security descriptor, its name, a round trip. (The
# other control tests dial a fresh server each time, and under Wine the first
# connection to a go-winio pipe is never served: see build/wine/pipeprime.c.)
wine "$bin/control.test.exe" -test.count=1 -test.run '^(TestPipe|TestTrustedOwner|TestForeignPipeIsNoTray)'
wine "$bin/winpath.test.exe" -test.count=1
# NOTIFYICONDATAW's layout, text cut to the balloon's fields, no tray icon.
wine "$bin/notify.test.exe" -test.count=1

echo "== wine: the CLI and the helper as pip calls them"
fail=0
failed() {
	echo "FAIL: $*" >&2
	fail=1
}
# expect WANT CMD...: CMD's stdout must be WANT (one line) and it must exit 0.
expect() {
	local want=$1 got
	shift
	if ! got=$("$@" 2>"$work/stderr"); then
		failed "$* exited $? ($(cat "$work/stderr"))"
	elif [[ $got != "$want" ]]; then
		failed "$*: got ${got:0:60}, want ${want:0:60}"
	fi
}
# expect_fail CMD...: CMD must exit non-zero with nothing on stdout.
expect_fail() {
	local got
	if got=$("$@" 2>/dev/null); then
		failed "$* succeeded"
	elif [[ -n $got ]]; then
		failed "$* printed ${got:0:60} while failing"
	fi
}
# credentials PATTERN: the Credential Manager entries whose target matches
# PATTERN, as reg.exe sees them (Wine keeps them under this key).
credentials() {
	wine reg query 'HKCU\Software\Wine\Credential Manager' 2>/dev/null | tr -d '\r' |
		sed -n 's/^HKEY_CURRENT_USER\\Software\\Wine\\Credential Manager\\Generic: //p' | grep -c -- "$1" || true
}
fk() { wine "$bin/feedkey.exe" "$@"; }

# windows prints "id x y width height" for each visible X window smaller than
# the screen (the root and Wine's desktop window are not).
windows() {
	local w
	for w in $(xdotool search --onlyvisible --name '' 2>/dev/null); do
		xdotool getwindowgeometry --shell "$w" 2>/dev/null |
			awk -F= -v id="$w" '{v[$1] = $2} END {if (v["WIDTH"] < 800) print id, v["X"], v["Y"], v["WIDTH"], v["HEIGHT"]}'
	done
}
# wait_window MINW MINH TRIES [ID...]: the first visible window at least
# MINW×MINH other than Wine's tray window and the IDs given, looked for
# every 0.2 s, TRIES times.
wait_window() {
	local w=$1 h=$2 tries=$3 i
	shift 3
	for ((i = 0; i < tries; i++)); do
		windows | awk -v w="$w" -v h="$h" -v skip=" $traywin $* " \
			'index(skip, " " $1 " ") == 0 && $4 >= w && $5 >= h {print; found = 1; exit} END {exit !found}' && return 0
		sleep 0.2
	done
	return 1
}
# capture NAME GEOMETRY...: the screen cropped to Wine's tray window and the
# windows given ("id x y width height"), 6 px around, as $work/NAME.png.
capture() {
	local name=$1
	shift
	/usr/bin/import -window root "$work/screen.png"
	local box
	box=$(printf '%s\n' "$traygeom" "$@" | awk 'NF == 5 {
		if (!n++ || $2 < x0) x0 = $2; if (n == 1 || $3 < y0) y0 = $3
		if ($2 + $4 > x1) x1 = $2 + $4; if ($3 + $5 > y1) y1 = $3 + $5
	} END {x0 = x0 < 6 ? 0 : x0 - 6; y0 = y0 < 6 ? 0 : y0 - 6; printf "%dx%d+%d+%d", x1 + 6 - x0, y1 + 6 - y0, x0, y0}')
	/usr/bin/convert "$work/screen.png" -crop "$box" +repage "$work/$name.png"
}
# open_menu right-clicks the tray icon (the first in Wine's tray window)
# until the menu shows (the tray may still be building it) and prints the
# menu window. A balloon still up is not the menu.
open_menu() {
	local i
	for ((i = 0; i < 5; i++)); do
		xdotool mousemove --window "$traywin" 10 10 click 3
		wait_window 100 60 10 "${balloon%% *}" && return 0
	done
	failed "the tray menu did not open"
	return 1
}
# tray_stage runs feedkey-tray.exe on a private Xvfb display, where Wine
# draws its notification-area icon in its own "Wine System Tray" window (no
# XEMBED tray manager runs): the menu from a right click, Start at login
# (the Run key), a balloon, Quit (exit status 0). Keys pick menu items from
# the end: Up from no selection is the last item (Quit), and separators are
# skipped, so Up Up Up is Start at login.
tray_stage() {
	# The Wine session so far has no display: start one that has.
	wineserver -k 2>/dev/null || true
	timeout 20 wineserver -w || true
	Xvfb -displayfd 3 -screen 0 800x600x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
	xvfb=$!
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s $work/display ]] && break
		sleep 0.1
	done
	[[ -s $work/display ]] || { failed "Xvfb did not start ($(cat "$work/xvfb.log"))"; return; }
	export DISPLAY=:$(cat "$work/display") FEEDKEY_SOCKET='\\.\pipe\feedkey-wine-tray'
	printf 'tok-small-1' | fk add "$url" --kind token >/dev/null || failed "feedkey add $url again"
	wine "$bin/feedkey-tray.exe" >"$work/tray.log" 2>&1 &
	local tray=$!
	timeout 30 wine "$work/pipeprime.exe" "$FEEDKEY_SOCKET" || { failed "the tray's pipe did not appear ($(cat "$work/tray.log"))"; return; }
	for ((i = 0; i < 50; i++)); do
		traywin=$(xdotool search --onlyvisible --name '^Wine System Tray$' 2>/dev/null | head -1) && [[ -n $traywin ]] && break
		sleep 0.2
	done
	[[ -n $traywin ]] || { failed "no Wine System Tray window appeared"; return; }
	traygeom=$(windows | awk -v id="$traywin" '$1 == id')

	# Start at login, from the menu; the Run key names feedkey-tray.exe.
	local balloon= menu= run=
	if open_menu >/dev/null; then
		xdotool key Up Up Up Return
		for ((i = 0; i < 25; i++)); do
			run=$(wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v feedkey 2>/dev/null | tr -d '\r') && break
			sleep 0.2
		done
		[[ $run == *'feedkey-tray.exe"'* ]] || failed "Start at login: the Run key has ${run:-no feedkey value}, want feedkey-tray.exe"
	fi
	# The menu again, now with Start at login ticked, for the screenshot.
	if menu=$(open_menu); then
		capture menu "$menu"
		xdotool key Escape
	fi

	# The balloon: a second start asks the first to show itself, and it
	# notifies (app/daemon Show). The pointer is away from the icon, so no
	# tooltip covers it.
	xdotool mousemove 700 500
	timeout 30 wine "$bin/feedkey-tray.exe" >"$work/second.log" 2>&1 || failed "a second feedkey-tray.exe exited $?"
	if balloon=$(wait_window 100 30 40); then
		capture balloon "$balloon"
	else
		failed "no notification balloon appeared ($(cat "$work/tray.log"))"
	fi
	grep -q 'notification:' "$work/tray.log" && failed "the notification failed: $(cat "$work/tray.log")"

	if [[ -f $work/balloon.png && -f $work/menu.png ]]; then
		/usr/bin/convert "$work/balloon.png" "$work/menu.png" -background black -splice 8x0 -gravity north +append -strip "$work/screenshot.png"
		if [[ $screenshot == 1 ]]; then
			cp "$work/screenshot.png" assets/screenshot-windows-tray.png
			echo "wrote assets/screenshot-windows-tray.png"
		fi
	fi

	# Quit, the menu's last item (a balloon still up is no matter); the
	# tray exits 0, within 15 s.
	open_menu >/dev/null && xdotool key Up Return
	for ((i = 0; i < 75; i++)); do
		kill -0 "$tray" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$tray" 2>/dev/null; then
		failed "feedkey-tray.exe still runs 15 s after Quit"
	else
		wait "$tray" || failed "feedkey-tray.exe exited $? after Quit ($(cat "$work/tray.log"))"
	fi
	unset FEEDKEY_SOCKET
}
kr() { wine "$bin/keyring.exe" "$@"; }

url=https://pypi.example.test/simple/
printf 'tok-small-1' | fk add "$url" --kind token >/dev/null || failed "feedkey add $url"
expect tok-small-1 kr get "$url" __token__
expect tok-small-1 kr get https://pypi.example.test/simple/mypkg/ __token__
json='{"username": "__token__", "password": "tok-small-1"}'
expect "$json" kr --mode creds --output json get "$url"
expect "$json" kr get --mode creds --output json "$url"
expect "$json" kr --output json get --mode creds "$url"
expect_fail kr get https://other.example.test/simple/ __token__

# A 6 KB token is over Credential Manager's 2,560-byte limit: it is stored
# in chunks, all of which logout removes.
big=$(head -c 4608 /dev/urandom | base64 -w0)
bigurl=https://big.example.test/simple/
fk add "$bigurl" --kind token <<<"$big" >/dev/null || failed "feedkey add $bigurl (6 KB token)"
expect "$big" kr get "$bigurl" __token__
expect "{\"username\": \"__token__\", \"password\": \"$big\"}" kr --mode creds --output json get "$bigurl"
n=$(credentials '^feedkey:token-big-example-test:chunk-')
((n >= 3)) || failed "the 6 KB token is in $n chunk entries, want 3 or more"
fk logout big-example-test >/dev/null || failed "feedkey logout big-example-test"
n=$(credentials '^feedkey:token-big-example-test:')
((n == 0)) || failed "$n entries of big-example-test remain after logout"
expect_fail kr get "$bigurl" __token__

# Plain entries, as Python keyring's own commands use them.
printf 'plain-pw\n' | kr set plainsvc alice || failed "keyring set plainsvc alice"
expect plain-pw kr get plainsvc alice
# No user name: the entry is found by service, as Python keyring does.
expect $'alice\nplain-pw' kr --mode creds get plainsvc
expect '{"username": "alice", "password": "plain-pw"}' kr --mode creds --output json get plainsvc
kr del plainsvc alice || failed "keyring del plainsvc alice"
expect_fail kr get plainsvc alice
printf 'crlf-pw\r\n' | kr set crlfsvc bob || failed "keyring set crlfsvc bob"
expect crlf-pw kr get crlfsvc bob
kr del crlfsvc bob || failed "keyring del crlfsvc bob"

echo "== wine: the agent answers the helper over the named pipe"
t0=$SECONDS
export FEEDKEY_SOCKET='\\.\pipe\feedkey-wine-test'
wine "$bin/feedkey.exe" agent >"$work/agent.log" 2>&1 &
wine "$work/pipeprime.exe" "$FEEDKEY_SOCKET" || failed "the agent's pipe $FEEDKEY_SOCKET did not appear ($(cat "$work/agent.log"))"
expect tok-small-1 kr get "$url" __token__
# Gone from Credential Manager, the token is still served: by the agent, from
# its memory, over the pipe.
wine reg delete 'HKCU\Software\Wine\Credential Manager\Generic: feedkey:token-pypi-example-test:credential' /f >/dev/null ||
	failed "removing the stored token with reg.exe"
expect tok-small-1 kr get "$url" __token__
expect "$json" kr --mode creds --output json get "$url"
# Single instance: a second agent finds the first over the pipe and exits.
second=$(timeout 60 wine "$bin/feedkey.exe" agent 2>&1) || failed "a second feedkey agent exited $? ($second)"
[[ $second == *"already running"* ]] || failed "a second feedkey agent did not find the first: $second"
# The console feedkey.exe hands `tray` to the GUI feedkey-tray.exe beside it;
# with a tray already answering on the pipe it says so and starts nothing.
tray=$(timeout 60 wine "$bin/feedkey.exe" tray 2>&1) || failed "feedkey.exe tray exited $? ($tray)"
[[ $tray == *"The feedkey tray is already running."* ]] || failed "feedkey.exe tray, with a tray running: $tray"
wine taskkill /f /im feedkey.exe >/dev/null 2>&1 || failed "stopping the agent"
wait
# No agent, no stored token: the helper answers "not found" on its own.
expect_fail kr get "$url" __token__
unset FEEDKEY_SOCKET
echo "agent stage: $((SECONDS - t0)) s"

echo "== wine: feedkey install puts its directory on the user PATH"
wine reg add 'HKCU\Environment' /v PATH /t REG_EXPAND_SZ /d '%USERPROFILE%\bin' /f >/dev/null
cp "$bin/keyring.exe" "$bin/feedkey-keyring.exe"
# user_path prints the user Path's type and value as reg.exe shows them.
user_path() { wine reg query 'HKCU\Environment' /v PATH | tr -d '\r' | sed -n 's/^ *PATH *//p'; }
fk install --dir 'C:\fk\bin' >/dev/null || failed "feedkey install --dir C:\fk\bin"
[[ $(user_path) == 'REG_EXPAND_SZ    C:\fk\bin;%USERPROFILE%\bin' ]] || failed "user Path after install: $(user_path)"
fk install --dir 'C:\fk\bin' >/dev/null || failed "feedkey install again"
fk install --no-path --dir 'C:\fk\other' >/dev/null || failed "feedkey install --no-path"
[[ $(user_path) == 'REG_EXPAND_SZ    C:\fk\bin;%USERPROFILE%\bin' ]] || failed "user Path after a second install and --no-path: $(user_path)"
expect 'feedkey.Keyring (priority: 10)' wine 'C:\fk\bin\keyring.exe' --list-backends

echo "== wine: the tray on a virtual X display"
if ! ensure_packages xvfb xdotool imagemagick; then
	echo "== wine: tray stage SKIPPED: xvfb, xdotool and imagemagick could not be installed (see above)"
else
	t0=$SECONDS
	tray_stage
	echo "tray stage: $((SECONDS - t0)) s"
fi

((fail == 0)) || exit 1
echo "== wine: all passed in $((SECONDS - start)) s"
