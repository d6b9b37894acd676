#!/usr/bin/env bash
# CI: make the printing tests runnable, then run them. Under CI=true a missing CUPS makes them
# FAIL (tests/cups_server.py), so a runner without printing support can never go green by skipping.
#
#   bash .ci/cups.sh                 # install what is missing, run tests/device/printing as root
#   bash .ci/cups.sh --install-only  # just the packages (the main test job then runs as root)
#
# The tests start their own private cupsd (own config, spool and Unix socket in /tmp); the
# system's cupsd is neither needed nor touched. Root is needed because cupsd runs the cups-pdf
# backend as root only when it is root itself.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "cups.sh: need root or sudo" >&2; exit 1; }
  SUDO="sudo -n"
fi

PKGS=(cups cups-client printer-driver-cups-pdf poppler-utils ghostscript)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "cups.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
ls /usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd >/dev/null
[ "${1:-}" = "--install-only" ] && exit 0

# As root, without leaving root-owned caches or bytecode in the checkout.
exec $SUDO env CI="${CI:-true}" PATH="$PATH" PYTHONDONTWRITEBYTECODE=1 \
  .venv/bin/pytest tests/device/printing -q -p no:cacheprovider "$@"
