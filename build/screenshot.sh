#!/usr/bin/env bash
# Takes the README's tray screenshot, assets/screenshot-tray.png, the way
# SPEC §11 says: `feedkey demo` (the simulator + the real tray) on a virtual X
# display (Xvfb), hosted by Debian's xfce4-panel, whose systray plugin shows
# StatusNotifierItems, on a private D-Bus session with an unlocked
# gnome-keyring and a throwaway HOME. One demo feed is signed in first, so the
# menu shows both a valid feed and one that needs a sign-in; then the icon is
# clicked and the screen captured, cropped to the panel and the open menu.
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
screen=1024x600x24

# --- packages -----------------------------------------------------------------
# Package, and a file or command that proves it is installed. ImageMagick is
# probed by its real path: some machines have a stand-in `convert` earlier on
# PATH that only converts files.
need=(
  "xvfb:Xvfb"
  "xfce4-panel:xfce4-panel"
  "xfconf:/usr/share/dbus-1/services/org.xfce.Xfconf.service"
  "xdotool:xdotool"
  "x11-apps:xwd"
  "x11-utils:xwininfo"
  "imagemagick:/usr/bin/convert"
  "dbus:dbus-daemon"
  "dbus-bin:dbus-send"
  "gnome-keyring:gnome-keyring-daemon"
  "curl:curl"
  "fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
)
missing=()
for entry in "${need[@]}"; do
  pkg=${entry%%:*} probe=${entry#*:}
  if [[ $probe == /* ]]; then [[ -e $probe ]] || missing+=("$pkg")
  else command -v "$probe" >/dev/null || missing+=("$pkg"); fi
done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
convert=/usr/bin/convert

# --- a throwaway world ----------------------------------------------------------
work=$(mktemp -d)
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share \
  XDG_CACHE_HOME=$work/home/.cache XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$work/bin" "$work/log"
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
  set +e
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

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  for ((t = 0; t < secs * 10; t++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
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
Xvfb "$display" -screen 0 "$screen" -nolisten tcp >"$work/log/xvfb" 2>&1 &
pids+=($!)
wait_for 10 "Xvfb" xdpyinfo

# --- private session bus --------------------------------------------------------
# Started by hand rather than with dbus-run-session so this script keeps its
# pid for cleanup; it inherits HOME/XDG_* above, and so does xfconfd, which it
# starts on demand and which then reads the panel config seeded below.
echo "== D-Bus session, gnome-keyring"
dbus-daemon --session --nofork --nopidfile --address="unix:path=$XDG_RUNTIME_DIR/bus" >"$work/log/dbus" 2>&1 &
pids+=($!)
export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus
wait_for 10 "the session bus" dbus-send --session --dest=org.freedesktop.DBus --print-reply / org.freedesktop.DBus.ListNames

# The Secret Service, unlocked with a throwaway password (SPEC §11).
# --foreground keeps it a child of ours, so cleanup can end it.
(echo -n pw | exec gnome-keyring-daemon --foreground --unlock --components=secrets) >"$work/log/keyring" 2>&1 &
pids+=($!)
wait_for 10 "gnome-keyring" sh -c 'dbus-send --session --dest=org.freedesktop.DBus --print-reply / org.freedesktop.DBus.ListNames | grep -q org.freedesktop.secrets'

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
xfce4-panel --disable-wm-check >"$work/log/panel" 2>&1 &
pids+=($!)
# The systray plugin registers the StatusNotifierWatcher once it is up.
wait_for 20 "the panel's status tray" sh -c 'dbus-send --session --dest=org.freedesktop.DBus --print-reply / org.freedesktop.DBus.ListNames | grep -q org.kde.StatusNotifierWatcher'
xfconfd_pid=$(dbus-send --session --dest=org.freedesktop.DBus --print-reply / \
  org.freedesktop.DBus.GetConnectionUnixProcessID string:org.xfce.Xfconf 2>/dev/null | awk '/uint32/ {print $2}') || true

# --- feedkey demo -------------------------------------------------------------
echo "== feedkey demo"
feedkey demo >"$work/log/demo" 2>&1 &
pids+=($!)
wait_for 20 "feedkey demo's instructions" grep -q '^ *env .*feedkey-demo-ppm$' "$work/log/demo"
wait_for 20 "feedkey's tray icon" sh -c 'dbus-send --session --dest=org.freedesktop.DBus --print-reply / org.freedesktop.DBus.ListNames | grep -q org.kde.StatusNotifierItem-'

# Sign the Package Manager feed in with the environment the demo printed
# (its config, control socket and CA), through the curl "browser" above.
demo_env=$(grep -m1 '^ *env .*feedkey-demo-ppm$' "$work/log/demo" | sed -e 's/^ *env //' -e 's/ pip install .*//')
echo "== feedkey login demo-ppm"
env $demo_env feedkey login demo-ppm >"$work/log/login" 2>&1 || { cat "$work/log/login" >&2; exit 1; }

sleep 3 # let the tray pick up the new state and the panel draw the icon
