#!/usr/bin/env bash
# Takes the README's tray screenshot, assets/screenshot-tray.png, the way
# SPEC §11 says: `feedkey demo` (the simulator + the real tray) on a virtual X
# display (Xvfb), hosted by Debian's xfce4-panel, whose systray plugin shows
# StatusNotifierItems, on a private D-Bus session with an unlocked
# gnome-keyring and a throwaway HOME. One demo feed is signed in first, so the
# menu shows both a valid feed and one that needs a sign-in; then the icon is
# clicked and the screen captured, cropped to the panel and the open menu.
# Takes about 70 s, most of it waiting for the tray's once-a-minute redraw.
# Installs the Debian packages it needs when they are missing. Nothing of the
# person's own desktop, bus, keychain or feedkey config is touched.
#
#   build/screenshot.sh              writes assets/screenshot-tray.png
#   build/screenshot.sh OUT.png      writes OUT.png instead
#   KEEP=1 build/screenshot.sh       also keeps the full-screen capture and logs
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-assets/screenshot-tray.png}
case $out in /*) ;; *) out=$PWD/$out ;; esac

display=:99          # any free X display number
width=1024 height=600
# GTK draws the panel and the menu at this scale, for a sharp image on HiDPI
# screens (feedkey's icons are 64 px). SCALE=1 gives the plain size.
scale=${SCALE:-2}

# --- packages -----------------------------------------------------------------
# Installed from Debian when missing (build/lib.sh). x11-apps has xwd,
# x11-utils xdpyinfo, x11-xserver-utils xsetroot; xfconf is the settings
# daemon the panel reads its config from.
source build/lib.sh
ensure_packages xvfb xfce4-panel xfconf xdotool x11-apps x11-utils x11-xserver-utils \
  imagemagick dbus dbus-bin gnome-keyring curl fonts-dejavu-core
# ImageMagick by its real path: some machines have a stand-in `convert`
# earlier on PATH that only converts files.
convert=/usr/bin/convert

# --- a throwaway world ----------------------------------------------------------
# Go's caches stay where they are (HOME changes below), so a rerun is fast.
export GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) GOPATH=$(go env GOPATH)
work=$(mktemp -d)
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share \
  XDG_CACHE_HOME=$work/home/.cache XDG_RUNTIME_DIR=$work/run
# TMPDIR too: the demo keeps its config, CA and socket in a temporary folder.
export TMPDIR=$work/tmp
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$TMPDIR" "$work/bin" "$work/log"
mkdir -m 700 "$XDG_RUNTIME_DIR"
# The machine may point Go programs and pip at other CAs; the demo sets its own.
unset SSL_CERT_FILE REQUESTS_CA_BUNDLE PIP_CERT PIP_FIND_LINKS SESSION_MANAGER
export DISPLAY=$display NO_AT_BRIDGE=1 LANG=C.UTF-8 LC_ALL=C.UTF-8

# Every background process is started as its own process group (set -m), and
# cleanup ends those groups — newest first, so the tray quits (and removes its
# demo keychain entries) while the bus and keyring are still there.
set -m
pids=()
cleanup() {
  local status=$?
  set +e +m # +m: no "Interrupt" job reports from the groups ended below
  # xfconfd is started by the bus on demand, outside our process groups.
  [[ -n ${xfconfd_pid:-} ]] && kill "$xfconfd_pid" 2>/dev/null
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -INT -- "-${pids[i]}" 2>/dev/null
    for _ in {1..30}; do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-${pids[i]}" 2>/dev/null
    wait "${pids[i]}" 2>/dev/null
  done
  if ((status)) || [[ -n ${KEEP:-} ]]; then
    echo "logs and captures kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# poll SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds (0) or
# SECONDS pass (1).
poll() {
  local secs=$1 t; shift
  for ((t = 0; t < secs * 10; t++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}
# wait_for SECONDS DESCRIPTION COMMAND...: poll, or give up with a message.
wait_for() {
  local secs=$1 what=$2; shift 2
  poll "$secs" "$@" && return 0
  echo "timed out waiting for $what (logs in $work/log)" >&2
  exit 1
}

echo "== building feedkey"
CGO_ENABLED=${CGO_ENABLED:-0} go build -trimpath -o "$work/bin/" ./app/feedkey ./helper/feedkey-keyring
# The helper answers pip as `keyring`; the demo's sign-ins open the
# "browser", here a script that approves the simulator's device page with curl.
ln -s feedkey-keyring "$work/bin/keyring"
cat >"$work/bin/xdg-open" <<'EOF'
#!/bin/sh
exec curl -sf --cacert "$SSL_CERT_FILE" "$1" >/dev/null
EOF
chmod +x "$work/bin/xdg-open"
export PATH=$work/bin:$PATH

# --- X display ------------------------------------------------------------------
echo "== Xvfb $display"
[[ ! -e /tmp/.X11-unix/X${display#:} ]] || { echo "display $display is taken" >&2; exit 1; }
# -noreset: by default Xvfb resets (and forgets the desktop colour) whenever
# its last client disconnects, e.g. between xsetroot and the panel.
Xvfb "$display" -screen 0 "${width}x${height}x24" -noreset -nolisten tcp >"$work/log/xvfb" 2>&1 &
pids+=($!)
wait_for 10 "Xvfb" xdpyinfo
xsetroot -solid '#5e6f80' # a calm desktop colour instead of black around the menu

# --- private session bus --------------------------------------------------------
# Started by hand rather than with dbus-run-session so this script keeps its
# pid for cleanup; it inherits HOME/XDG_* above, and so does xfconfd, which it
# starts on demand and which then reads the panel config seeded below.
echo "== D-Bus session, gnome-keyring"
dbus-daemon --session --nofork --nopidfile --address="unix:path=$XDG_RUNTIME_DIR/bus" >"$work/log/dbus" 2>&1 &
pids+=($!)
export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus
bus_names() { dbus-send --session --dest=org.freedesktop.DBus --print-reply / org.freedesktop.DBus.ListNames; }
has_name() { bus_names | grep -q "\"$1"; }
wait_for 10 "the session bus" bus_names

# The Secret Service, unlocked with a throwaway password (SPEC §11).
# --foreground keeps it a child of ours, so cleanup can end it.
(echo -n pw | exec gnome-keyring-daemon --foreground --unlock --components=secrets) >"$work/log/keyring" 2>&1 &
pids+=($!)
wait_for 10 "gnome-keyring" has_name org.freedesktop.secrets

# --- panel ----------------------------------------------------------------------
# A one-panel xfconf config, seeded before xfconfd first starts, so the panel
# neither asks "default config or empty panel?" nor loads Xfce's full default
# (whose clock would change every shot). A separator pushes the status tray to
# the right end, as on most desktops; the tray plugin ("systray") hosts
# StatusNotifierItems, i.e. feedkey's icon and its D-Bus menu.
echo "== xfce4-panel"
xml=$XDG_CONFIG_HOME/xfce4/xfconf/xfce-perchannel-xml
mkdir -p "$xml"
cat >"$xml/xfce4-panel.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="icon-size" type="uint" value="22"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
        <value type="int" value="2"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="separator">
      <property name="expand" type="bool" value="true"/>
      <property name="style" type="uint" value="0"/>
    </property>
    <property name="plugin-2" type="string" value="systray">
      <property name="square-icons" type="bool" value="true"/>
    </property>
  </property>
</channel>
EOF
# No window manager: --disable-wm-check stops the panel from waiting for one.
GDK_SCALE=$scale xfce4-panel --disable-wm-check >"$work/log/panel" 2>&1 &
pids+=($!)
# The systray plugin registers the StatusNotifierWatcher once it is up.
wait_for 20 "the panel's status tray" has_name org.kde.StatusNotifierWatcher
xfconfd_pid=$(dbus-send --session --dest=org.freedesktop.DBus --print-reply / \
  org.freedesktop.DBus.GetConnectionUnixProcessID string:org.xfce.Xfconf 2>/dev/null | awk '/uint32/ {print $2}') || true

# --- windows and pixels ---------------------------------------------------------
geometry() { # WINDOW -> "X Y WIDTH HEIGHT" on the screen
  xdotool getwindowgeometry --shell "$1" | awk -F= '{v[$1]=$2} END {print v["X"], v["Y"], v["WIDTH"], v["HEIGHT"]}'
}
find_window() { # PATTERN -> the first visible window named PATTERN that is on screen and not tiny
  local w x y wd ht
  for w in $(xdotool search --onlyvisible --name "$1" 2>/dev/null); do
    read -r x y wd ht < <(geometry "$w")
    ((x >= 0 && y >= 0 && wd > 10 && ht > 10)) && { echo "$w"; return 0; }
  done
  return 1
}
# locate_tray sets tx ty tw th to the tray plugin's rectangle and px py pw ph
# to the panel's. The panel runs the plugin in a process of its own
# (wrapper-2.0) whose window is embedded in the panel: the only visible
# wrapper-2.0 window with a real size. It holds just feedkey's icon.
locate_tray() {
  local tray_win panel_win
  tray_win=$(find_window '^wrapper-2\.0$') && panel_win=$(find_window '^xfce4-panel$') || return 1
  read -r tx ty tw th < <(geometry "$tray_win")
  read -r px py pw ph < <(geometry "$panel_win")
}
capture() { # the whole screen into $work/screen.png
  xwd -root -silent >"$work/screen.xwd"
  $convert xwd:"$work/screen.xwd" "$work/screen.png"
}
# icon_drawn captures the screen and tells whether the middle of the tray
# plugin shows an icon rather than a flat button.
icon_drawn() {
  locate_tray || return 1 # the plugin grows when the item arrives
  capture
  local sd
  sd=$($convert "$work/screen.png" -crop "$((tw / 2))x$((th / 2))+$((tx + tw / 4))+$((ty + th / 4))" \
    -colorspace gray -format '%[fx:standard_deviation]' info:)
  awk -v sd="$sd" 'BEGIN {exit !(sd > 0.05)}'
}

# --- feedkey demo -------------------------------------------------------------
# Now and then (about 1 start in 10 here) the plugin shows feedkey's item as
# an empty button, probably a race: it reads the item's properties before the
# tray has set its icon and misses the NewIcon signal. The tray sets its icon
# again only when its state changes, so start the demo afresh (up to 3 times)
# until the icon shows.
for attempt in 1 2 3; do
  echo "== feedkey demo"
  feedkey demo >"$work/log/demo" 2>&1 &
  demo_pid=$!
  pids+=($demo_pid)
  wait_for 20 "feedkey demo's instructions" grep -q 'demo env)"$' "$work/log/demo"
  wait_for 20 "feedkey's tray item" has_name org.kde.StatusNotifierItem-
  poll 5 icon_drawn && break
  ((attempt < 3)) || { echo "the panel shows no icon for feedkey (logs in $work/log)" >&2; exit 1; }
  echo "   (the panel shows an empty button for feedkey: starting the demo again)"
  kill -INT -- "-$demo_pid"
  wait "$demo_pid" || true
  unset 'pids[-1]'
  wait_for 10 "the old tray item to go" eval '! has_name org.kde.StatusNotifierItem-'
done

# Sign the Package Manager feed in with the demo's settings (its config,
# control socket and CA: step 2 of its instructions), through the curl
# "browser" above.
echo "== feedkey login demo-ppm"
(eval "$(feedkey demo env)" && feedkey login demo-ppm) >"$work/log/login" 2>&1 || { cat "$work/log/login" >&2; exit 1; }

# The tray reads the keychain when it redraws its menu, which it does every
# minute (the labels count down): it is not told about a CLI sign-in. So wait,
# up to a minute, until its D-Bus menu (read as in SPEC §11) shows the feed valid.
item=$(bus_names | grep -o 'org\.kde\.StatusNotifierItem-[0-9]*-[0-9]*' | head -1)
menu_path=$(dbus-send --session --dest="$item" --print-reply /StatusNotifierItem \
  org.freedesktop.DBus.Properties.Get string:org.kde.StatusNotifierItem string:Menu | grep -o '"/[^"]*"' | tr -d '"')
menu_labels() { # the "label" properties of the whole menu, one a line
  dbus-send --session --dest="$item" --print-reply "$menu_path" com.canonical.dbusmenu.GetLayout \
    int32:0 int32:-1 array:string:label |
    awk '/string "label"/ {getline; sub(/^[^"]*"/, ""); sub(/"[^"]*$/, ""); if ($0 != "") print}'
}
ppm_signed_in() { menu_labels | grep -q '^demo-ppm — valid'; }
echo "== waiting for the tray's next redraw (up to a minute)"
wait_for 75 "the menu to show demo-ppm as signed in" ppm_signed_in
menu_labels | sed 's/^/   /'

# --- open the menu --------------------------------------------------------------
# Click the middle of the tray plugin with the left button: the tray says
# ItemIsMenu, so the plugin pops up the D-Bus menu.
wait_for 10 "feedkey's icon on the panel" icon_drawn
echo "== panel ${pw}x${ph}+$px+$py, tray ${tw}x${th}+$tx+$ty: clicking the icon"
xdotool mousemove $((tx + tw / 2)) $((ty + th / 2)) click 1

# The menu is a new top-level window, mapped just below the panel.
menu_geometry() {
  local w x y wd ht
  for w in $(xdotool search --onlyvisible --name '' 2>/dev/null); do
    read -r x y wd ht < <(geometry "$w")
    ((wd > 60 && ht > 60 && y >= py + ph - 2)) && { echo "$x $y $wd $ht"; return 0; }
  done
  return 1
}
wait_for 10 "the tray menu" menu_geometry
sleep 1 # let GTK finish drawing it
read -r mx my mw mh < <(menu_geometry)
echo "== menu ${mw}x${mh}+$mx+$my"

# --- capture --------------------------------------------------------------------
# The whole screen (once the icon shows), cropped to the panel's right end with
# the icon and the open menu below it, plus a margin of desktop.
wait_for 10 "feedkey's icon on the panel, with the menu open" icon_drawn
margin=$((12 * scale))
left=$(((mx < tx ? mx : tx) - margin)); ((left >= 0)) || left=0
right=$((px + pw))
top=$py
bottom=$((my + mh + margin)); ((bottom <= height)) || bottom=$height
mkdir -p "$(dirname "$out")"
$convert "$work/screen.png" -crop "$((right - left))x$((bottom - top))+$left+$top" +repage -strip "$out"
echo "wrote $out ($(/usr/bin/identify -format '%wx%h' "$out"))"
