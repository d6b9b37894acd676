#!/usr/bin/env bash
# Set up the gait station on a Raspberry Pi (64-bit Raspberry Pi OS bookworm or trixie) or on a
# Debian/Ubuntu dev machine / CI. Idempotent: running it twice is harmless and fast.
#
#   bash setup.sh                     # station: system packages, .venv, model
#   bash setup.sh --with-tests        # + what the test suite needs (chromium, cups-pdf, poppler)
#   sudo bash setup.sh --install-service   # Pi: + systemd unit, service user, starts at boot
#   bash setup.sh --plan              # only say what was detected and what would be installed
#
# Options:
#   --with-tests        install test dependencies too
#   --install-service   install and enable systemd/gait-station.service (Pi; needs root)
#   --model PATH        use this MoveNet .tflite instead of downloading (also $GAIT_STATION_MODEL)
#   --no-apt            skip system packages (you installed them yourself)
#   --data-dir DIR      station data dir for the service (default /var/lib/gait-station)
#   --plan              print the detected platform, apt packages and numpy constraint; change nothing
#
# For tools/pi-check.sh (emulated Pi OS check), not for stations:
#   GAIT_PI_MODEL_FILE=F            read the board model from F instead of /proc/device-tree/model
#   GAIT_SETUP_ALLOW_MISSING_APT=1  apt packages missing from the apt sources are named and skipped
set -euo pipefail

cd "$(dirname "$0")"
REPO=$(pwd)
WITH_TESTS=0
INSTALL_SERVICE=0
NO_APT=0
PLAN=0
MODEL_ARG=${GAIT_STATION_MODEL:-}
SERVICE_DATA_DIR=/var/lib/gait-station
while [ $# -gt 0 ]; do
  case "$1" in
    --with-tests) WITH_TESTS=1 ;;
    --install-service) INSTALL_SERVICE=1 ;;
    --no-apt) NO_APT=1 ;;
    --model) MODEL_ARG=$2; shift ;;
    --data-dir) SERVICE_DATA_DIR=$2; shift ;;
    --plan) PLAN=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

MODEL_NAME=movenet_singlepose_lightning_int8_4.tflite
MODEL_SHA256=cd7cc22fa946e5d146a7b98d496853e1923e22828d3972d579973f27f91bb105
# Published by Google (TF Hub / Kaggle Models google/movenet, singlepose-lightning-tflite-int8 v4).
MODEL_URL="https://tfhub.dev/google/lite-model/movenet/singlepose/lightning/tflite/int8/4?lite-format=tflite"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- platform
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || die "no $PY on this machine (install python3)"
# Python's pointer size is the userland's: a 32-bit Raspberry Pi OS under the 64-bit kernel (the
# default on a Pi 4/5) still says aarch64 in uname, but its Python and its wheels are armhf.
PY_BITS=$("$PY" -c 'import struct; print(struct.calcsize("P") * 8)')
DEB_ARCH=$(dpkg --print-architecture 2>/dev/null || true)
case "$DEB_ARCH" in armhf | armel | i386) USERLAND_32=1 ;; *) USERLAND_32=0 ;; esac
if [ "$PY_BITS" != 64 ] || [ "$USERLAND_32" -eq 1 ]; then
  die "32-bit userland (dpkg: ${DEB_ARCH:-none}, Python: ${PY_BITS}-bit, kernel: $(uname -m)) is not supported: LiteRT has no 32-bit wheel; install the 64-bit Raspberry Pi OS"
fi
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "Python 3.11 or newer is needed, this is $("$PY" --version 2>&1) (Raspberry Pi OS bookworm or newer)"

PI_MODEL_FILE=${GAIT_PI_MODEL_FILE:-/proc/device-tree/model}
PI_MODEL=$(tr -d '\0' 2>/dev/null <"$PI_MODEL_FILE" || true)
IS_PI=0
case "$PI_MODEL" in *"Raspberry Pi"*) IS_PI=1 ;; esac

# On a Pi the venv sees the system's picamera2 stack (--system-site-packages), whose compiled
# modules are built against the system numpy: a venv numpy of another major version breaks them
# (bookworm's stack is numpy 1, trixie's numpy 2). Elsewhere there is no such stack: no pin.
numpy_pin() {
  [ "$IS_PI" -eq 1 ] || return 0
  local v
  v=$("$PY" -s -c 'import numpy; print(numpy.__version__)' 2>/dev/null) || return 0
  echo "numpy>=${v%%.*},<$((${v%%.*} + 1))"
}
# Wheels only for the big compiled packages: building numpy/scipy/opencv from source takes hours
# on a Pi and fails half-way on a full SD card; a missing wheel must stop setup with pip's reason.
ONLY_BINARY=numpy,scipy,opencv-python-headless,av,pillow,ml-dtypes,ai-edge-litert,tflite-runtime,cffi,fonttools,brotli,zopfli,uvloop

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=""; fi
fi

# ---------------------------------------------------------------- system packages
# One dpkg-query and one apt-cache for the whole list: each run of them loads the package database,
# seconds apiece on a Pi's SD card (and half a minute under emulation), so not one per package.
missing_pkgs() {
  local -A ok=()
  local name status p
  while read -r name status; do
    [ "$status" = "install ok installed" ] && ok[$name]=1
  done < <(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null)
  for p in "$@"; do [ -n "${ok[$p]:-}" ] || echo "$p"; done
}
apt_install() {
  # Install only what is missing, so a second run does no network work at all.
  # $APT_OPTS: extra apt-get options (e.g. --no-install-recommends).
  local missing=() absent=() p
  mapfile -t missing < <(missing_pkgs "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    die "need root to install: ${missing[*]} (run as root, install them yourself and pass --no-apt)"
  fi
  if [ -z "${_APT_UPDATED:-}" ]; then
    $SUDO apt-get update -qq
    _APT_UPDATED=1
  fi
  local available=() pkg
  local -A candidate=()
  # "pkg:" starts a package's block in apt-cache policy; a package apt does not know has none.
  while read -r pkg; do candidate[$pkg]=1; done < <(apt-cache policy "${missing[@]}" 2>/dev/null | awk '
    /^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1); next }
    /^ +Candidate: / && $2 != "(none)" { print pkg }')
  for p in "${missing[@]}"; do
    if [ -n "${candidate[$p]:-}" ]; then available+=("$p"); else absent+=("$p"); fi
  done
  if [ ${#absent[@]} -gt 0 ]; then
    [ "${GAIT_SETUP_ALLOW_MISSING_APT:-0}" = 1 ] \
      || die "not available from this system's apt sources: ${absent[*]} (on a Pi these come with Raspberry Pi OS 64-bit)"
    say "not available from this system's apt sources, skipped: ${absent[*]}"
  fi
  [ ${#available[@]} -eq 0 ] && return 0
  say "installing system packages: ${available[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ${APT_OPTS:-} "${available[@]}" >/dev/null
}

# weasyprint needs pango; fonts for the report; sqlite3 for inspection; cups client for printing.
BASE_PKGS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core sqlite3 cups-client curl ca-certificates)
"$PY" -c 'import venv, ensurepip' 2>/dev/null || BASE_PKGS+=(python3-venv)
if [ "$IS_PI" -eq 1 ]; then
  # picamera2/libcamera only exist as Raspberry Pi OS packages; lgpio is gpiozero's pin backend on
  # the Pi 5; python3-numpy is the numpy picamera2 is built against (the venv's numpy follows it).
  # No python3-dev: nothing is compiled here (wheels only), and its static libpython is large.
  BASE_PKGS+=(python3-picamera2 python3-libcamera python3-lgpio python3-numpy cups printer-driver-cups-pdf)
fi
# Browser tests (Debian chromium driven by Playwright), a private cupsd with the cups-pdf queue
# (tests start it themselves), pdftotext/pdftoppm to read the rendered reports.
TEST_PKGS=(chromium cups cups-client cups-bsd printer-driver-cups-pdf ghostscript poppler-utils)

if [ "$PLAN" -eq 1 ]; then
  echo "platform: $(uname -m) kernel, ${DEB_ARCH:-no dpkg} userland, $("$PY" --version 2>&1) (${PY_BITS}-bit)"
  if [ "$IS_PI" -eq 1 ]; then echo "raspberry pi: yes ($PI_MODEL)"; else echo "raspberry pi: no"; fi
  echo "numpy constraint: $(numpy_pin | grep . || echo none)"
  echo "wheels only: $ONLY_BINARY"
  if [ "$NO_APT" -eq 0 ] && command -v dpkg-query >/dev/null 2>&1; then
    pkgs=("${BASE_PKGS[@]}")
    [ "$WITH_TESTS" -eq 1 ] && pkgs+=("${TEST_PKGS[@]}")
    echo "apt packages to install: $(missing_pkgs "${pkgs[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//' | grep . || echo none)"
  fi
  exit 0
fi

if [ "$NO_APT" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  APT_OPTS=--no-install-recommends apt_install "${BASE_PKGS[@]}"
  [ "$WITH_TESTS" -eq 1 ] && apt_install "${TEST_PKGS[@]}"
fi

# ---------------------------------------------------------------- python venv
if [ ! -x .venv/bin/python ]; then
  if [ "$IS_PI" -eq 1 ]; then
    # --system-site-packages: picamera2 and libcamera come from apt and must be importable.
    say "creating .venv (with system site packages for picamera2)"
    "$PY" -m venv --system-site-packages .venv
  else
    say "creating .venv"
    "$PY" -m venv .venv
  fi
fi
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check --only-binary "$ONLY_BINARY")
NUMPY_PIN=$(numpy_pin)
printf '%s\n' "$NUMPY_PIN" >.venv/constraints.txt
CONSTRAINTS=(-c .venv/constraints.txt)
EXTRAS=""
[ "$WITH_TESTS" -eq 1 ] && EXTRAS="[test]"
STAMP=.venv/.installed$EXTRAS
# pip exits 0 even when its resolver leaves a package beside a numpy it cannot use; pip check
# does not, and a wrong numpy gives wrong numbers rather than an error.
pip_check() {
  local out
  out=$(.venv/bin/python -m pip check --disable-pip-version-check 2>&1) \
    || die "the venv's packages do not fit together: $(echo "$out" | tr '\n' ';')"
}
# The stamp holds the numpy constraint it was installed under: a system numpy moving to another
# major version (an OS upgrade) reinstalls.
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ "$(cat "$STAMP")" != "$NUMPY_PIN" ]; then
  say "installing the gait station into .venv${NUMPY_PIN:+ ($NUMPY_PIN, as the system picamera2 stack)}"
  "${PIP[@]}" "${CONSTRAINTS[@]}" -e ".$EXTRAS"
  # LiteRT first; tflite-runtime only where LiteRT does not import. tflite-runtime's wheels are
  # built against numpy 1 and have none for Python 3.12+, so the whole set is resolved again
  # under numpy<2 (pip then picks matching opencv/scipy too) rather than numpy alone downgraded.
  if ! .venv/bin/python -c 'import ai_edge_litert.interpreter' 2>/dev/null; then
    grep -q '^numpy>=[2-9]' .venv/constraints.txt \
      && die "LiteRT does not import here and tflite-runtime needs numpy 1, but the system's picamera2 stack uses $(cat .venv/constraints.txt)"
    say "ai-edge-litert not available here; falling back to tflite-runtime (numpy 1)"
    echo "numpy<2" >>.venv/constraints.txt
    "${PIP[@]}" "${CONSTRAINTS[@]}" -e ".$EXTRAS" "tflite-runtime>=2.14" \
      || die "no tflite-runtime wheel for $("$PY" --version 2>&1) on $(uname -m) either: no pose runtime for this platform"
    .venv/bin/python -c 'import tflite_runtime.interpreter' \
      || die "tflite-runtime installed but does not import (see above)"
  fi
  pip_check
  printf '%s' "$NUMPY_PIN" >"$STAMP"
fi

# ---------------------------------------------------------------- model
DATA_DIR=$(.venv/bin/python -c 'from device.config import load_config; print(load_config().data_dir)')
MODEL_DIR="$DATA_DIR/models"
mkdir -p "$MODEL_DIR"
MODEL_DEST="$MODEL_DIR/$MODEL_NAME"
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$MODEL_SHA256" ]; }
if [ -n "$MODEL_ARG" ]; then
  [ -f "$MODEL_ARG" ] || die "model not found: $MODEL_ARG"
  sha_ok "$MODEL_ARG" || say "note: $MODEL_ARG is not the default Lightning int8 model (sha256 differs); using it as configured"
  say "model: $MODEL_ARG (set [pose] model_path or GAIT_STATION_MODEL to use it)"
elif sha_ok "$MODEL_DEST"; then
  say "model present: $MODEL_DEST"
elif sha_ok "$REPO/../shared/models/$MODEL_NAME"; then
  cp "$REPO/../shared/models/$MODEL_NAME" "$MODEL_DEST.tmp" && mv "$MODEL_DEST.tmp" "$MODEL_DEST"
  say "model copied from ../shared/models (sha256 ok)"
else
  say "downloading the MoveNet model"
  curl -fsSL --retry 3 -o "$MODEL_DEST.tmp" "$MODEL_URL" || die "model download failed (no internet?). Copy $MODEL_NAME to $MODEL_DEST or pass --model PATH"
  sha_ok "$MODEL_DEST.tmp" || { rm -f "$MODEL_DEST.tmp"; die "downloaded model has the wrong sha256; not used"; }
  mv "$MODEL_DEST.tmp" "$MODEL_DEST"
  say "model downloaded and verified"
fi

# ---------------------------------------------------------------- Pi service
if [ "$INSTALL_SERVICE" -eq 1 ]; then
  [ "$(id -u)" -eq 0 ] || die "--install-service needs root (sudo bash setup.sh --install-service)"
  id gaitstation >/dev/null 2>&1 || useradd --system --home-dir "$SERVICE_DATA_DIR" --shell /usr/sbin/nologin gaitstation
  # The unit's SupplementaryGroups must all exist or systemd will not start it (status 216/GROUP);
  # Raspberry Pi OS has gpio, plain Debian does not.
  for g in $(sed -n 's/^SupplementaryGroups=//p' systemd/gait-station.service); do
    getent group "$g" >/dev/null || groupadd --system "$g"
  done
  for g in video gpio lp render; do getent group "$g" >/dev/null && usermod -aG "$g" gaitstation; done
  install -d -o gaitstation -g gaitstation -m 0750 "$SERVICE_DATA_DIR" "$SERVICE_DATA_DIR/models"
  install -o gaitstation -g gaitstation -m 0644 "$MODEL_DEST" "$SERVICE_DATA_DIR/models/$MODEL_NAME"
  if [ ! -f "$SERVICE_DATA_DIR/config.toml" ]; then
    # The tablet reaches the station over the shop's Wi-Fi or the Pi's hotspot.
    printf '[web]\nhost = "0.0.0.0"\nport = 8080\n\n[storage]\ndata_dir = "%s"\n' "$SERVICE_DATA_DIR" \
      > "$SERVICE_DATA_DIR/config.toml"
    chown gaitstation:gaitstation "$SERVICE_DATA_DIR/config.toml"
  fi
  chmod o+rx "$REPO" "$REPO/.venv" 2>/dev/null || true
  # The service user runs the checkout's venv: every folder above it must let it pass (a home made
  # 0700, Debian 12's default, does not). Search only (o+x), never listing.
  d=$(dirname "$REPO")
  while [ "$d" != / ]; do
    runuser -u gaitstation -- test -x "$d" || { chmod o+x "$d" && say "let the service user through $d (chmod o+x)"; }
    d=$(dirname "$d")
  done
  runuser -u gaitstation -- "$REPO/.venv/bin/python" -c 'import device' \
    || die "the service user gaitstation cannot run $REPO/.venv (move the checkout somewhere it can read)"
  sed -e "s#@VENV@#$REPO/.venv#g" -e "s#@USER@#gaitstation#g" -e "s#@DATA_DIR@#$SERVICE_DATA_DIR#g" \
      -e "s#@REPO@#$REPO#g" systemd/gait-station.service > /etc/systemd/system/gait-station.service
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now gait-station.service
  else
    # No running systemd (a chroot, or an SD card image being prepared): daemon-reload and --now
    # need one; enable works offline, and the station starts at the next boot.
    systemctl enable gait-station.service
    say "systemd is not running here: gait-station is enabled and starts at the next boot"
  fi
  say "service installed: systemctl status gait-station; set the dashboard PIN with:"
  say "  sudo -u gaitstation $REPO/.venv/bin/gait-station set-pin --data-dir $SERVICE_DATA_DIR"
fi

say "ready. Run the station:  .venv/bin/gait-station run     (dashboard on http://127.0.0.1:8080)"
