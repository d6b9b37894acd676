#!/usr/bin/env bash
# Set up the gait station on a Raspberry Pi (Raspberry Pi OS bookworm, aarch64) or on a
# Debian/Ubuntu dev machine / CI. Idempotent: running it twice is harmless and fast.
#
#   bash setup.sh                     # station: system packages, .venv, model
#   bash setup.sh --with-tests        # + what the test suite needs (chromium, cups-pdf, poppler)
#   sudo bash setup.sh --install-service   # Pi: + systemd unit, service user, starts at boot
#
# Options:
#   --with-tests        install test dependencies too
#   --install-service   install and enable systemd/gait-station.service (Pi; needs root)
#   --model PATH        use this MoveNet .tflite instead of downloading (also $GAIT_STATION_MODEL)
#   --no-apt            skip system packages (you installed them yourself)
#   --data-dir DIR      station data dir for the service (default /var/lib/gait-station)
set -euo pipefail

cd "$(dirname "$0")"
REPO=$(pwd)
WITH_TESTS=0
INSTALL_SERVICE=0
NO_APT=0
MODEL_ARG=${GAIT_STATION_MODEL:-}
SERVICE_DATA_DIR=/var/lib/gait-station
while [ $# -gt 0 ]; do
  case "$1" in
    --with-tests) WITH_TESTS=1 ;;
    --install-service) INSTALL_SERVICE=1 ;;
    --no-apt) NO_APT=1 ;;
    --model) MODEL_ARG=$2; shift ;;
    --data-dir) SERVICE_DATA_DIR=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
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

IS_PI=0
if grep -qs "Raspberry Pi" /proc/device-tree/model 2>/dev/null; then IS_PI=1; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=""; fi
fi

# ---------------------------------------------------------------- system packages
apt_install() {
  # Install only what is missing, so a second run does no network work at all.
  # $APT_OPTS: extra apt-get options (e.g. --no-install-recommends).
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    die "need root to install: ${missing[*]} (run as root, install them yourself and pass --no-apt)"
  fi
  say "installing system packages: ${missing[*]}"
  if [ -z "${_APT_UPDATED:-}" ]; then
    $SUDO apt-get update -qq
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ${APT_OPTS:-} "${missing[@]}" >/dev/null
}

if [ "$NO_APT" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  # weasyprint needs pango; fonts for the report; sqlite3 for inspection; cups client for printing.
  BASE_PKGS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core sqlite3 cups-client curl ca-certificates)
  "${PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null || BASE_PKGS+=(python3-venv)
  if [ "$IS_PI" -eq 1 ]; then
    # picamera2/libcamera only exist as Raspberry Pi OS packages; lgpio is gpiozero's pin backend on the Pi 5.
    BASE_PKGS+=(python3-picamera2 python3-libcamera python3-lgpio python3-dev cups printer-driver-cups-pdf)
  fi
  APT_OPTS=--no-install-recommends apt_install "${BASE_PKGS[@]}"
  if [ "$WITH_TESTS" -eq 1 ]; then
    # Browser tests (Debian chromium driven by Playwright), a private cupsd with the cups-pdf
    # queue (tests start it themselves), pdftotext/pdftoppm to read the rendered reports.
    apt_install chromium cups cups-client cups-bsd printer-driver-cups-pdf ghostscript poppler-utils
  fi
fi

# ---------------------------------------------------------------- python venv
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "Python 3.11 or newer is needed ($("$PY" --version 2>&1))"
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
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
CONSTRAINTS=()
if [ "$IS_PI" -eq 1 ]; then
  # Raspberry Pi OS's picamera2 stack (simplejpeg, pidng) is built against numpy 1.x.
  echo "numpy<2" > .venv/constraints.txt
  CONSTRAINTS=(-c .venv/constraints.txt)
fi
EXTRAS=""
[ "$WITH_TESTS" -eq 1 ] && EXTRAS="[test]"
STAMP=.venv/.installed$EXTRAS
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  say "installing the gait station into .venv"
  "${PIP[@]}" "${CONSTRAINTS[@]}" -e ".$EXTRAS"
  # LiteRT first; tflite-runtime only where LiteRT has no wheel (it needs numpy<2 there).
  if ! .venv/bin/python -c 'import ai_edge_litert.interpreter' 2>/dev/null; then
    say "ai-edge-litert not available here; falling back to tflite-runtime"
    "${PIP[@]}" "numpy<2" "tflite-runtime>=2.14"
  fi
  touch "$STAMP"
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
  sed -e "s#@VENV@#$REPO/.venv#g" -e "s#@USER@#gaitstation#g" -e "s#@DATA_DIR@#$SERVICE_DATA_DIR#g" \
      -e "s#@REPO@#$REPO#g" systemd/gait-station.service > /etc/systemd/system/gait-station.service
  systemctl daemon-reload
  systemctl enable --now gait-station.service
  say "service installed: systemctl status gait-station; set the dashboard PIN with:"
  say "  sudo -u gaitstation $REPO/.venv/bin/gait-station set-pin --data-dir $SERVICE_DATA_DIR"
fi

say "ready. Run the station:  .venv/bin/gait-station run     (dashboard on http://127.0.0.1:8080)"
