#!/usr/bin/env bash
# Prove the station installs and runs on today's Raspberry Pi OS bases, under emulation.
#
# Builds arm64 Debian bookworm (Raspberry Pi OS bookworm's base, Python 3.11) and trixie (the
# current Raspberry Pi OS's base, Python 3.13) root filesystems once (mmdebstrap + qemu-user 10),
# clones this repo's HEAD into a fresh copy of each as user "pi" with ../shared beside it, and runs
# what a new user would: the README's first command, analyze on a sample, doctor, a short run with
# requests to the dashboard, the --install-service unit (Pi branch) and the non-browser tests.
# Each release is tried twice: as a plain Debian, and with the Pi branch of setup.sh forced
# (GAIT_PI_MODEL_FILE = a fake /proc/device-tree/model). Raspberry Pi OS's own apt packages
# (python3-picamera2, ...) are not in Debian: they are named in the table, every other step must
# pass. Prints a table per release; --doc FILE writes them as markdown.
#
#   sudo nice -n 15 tools/pi-check.sh                      # everything (1-2 h on 2 cores)
#   sudo tools/pi-check.sh --release trixie --branch pi    # one cell
#   sudo tools/pi-check.sh --table --doc docs/pi-check.md  # tables from the saved results
#
# Options:
#   --release bookworm|trixie|all   (default all)
#   --branch plain|pi|all           (default all)
#   --tests full|fast|quick|none    non-browser suite; its fast tier (not slow); a short subset;
#                                   or none (default full)
#   --cpu NAME                      QEMU_CPU (default cortex-a72 = Pi 4; cortex-a76 = Pi 5)
#   --time-scale N                  GAIT_TEST_TIME_SCALE for the tests (default 15)
#   --cache DIR                     rootfs and results (default /var/cache/gait-pi-check)
#   --keep                          keep the run's overlay for a look afterwards
#   --table                         only print the tables from saved results
#   --doc FILE                      also write the tables (markdown, dated) to FILE
# Not part of CI: it needs root (chroot, mounts, binfmt_misc) and takes long.
set -euo pipefail

ARGS=("$@")
REPO=${PI_CHECK_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
SHARED=${GAIT_STATION_SHARED:-$REPO/../shared}
CACHE=/var/cache/gait-pi-check
RELEASES=(bookworm trixie)
BRANCHES=(plain pi)
TESTS=full
CPU=cortex-a72
TIME_SCALE=15
KEEP=0
TABLE_ONLY=0
DOC=""
while [ $# -gt 0 ]; do
  case "$1" in
    --release) [ "$2" = all ] || RELEASES=("$2"); shift ;;
    --branch) [ "$2" = all ] || BRANCHES=("$2"); shift ;;
    --tests) TESTS=$2; shift ;;
    --cpu) CPU=$2; shift ;;
    --time-scale) TIME_SCALE=$2; shift ;;
    --cache) CACHE=$2; shift ;;
    --keep) KEEP=1 ;;
    --table) TABLE_ONLY=1 ;;
    --doc) DOC=$2; shift ;;
    -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "pi-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
PI_MODEL="Raspberry Pi 4 Model B Rev 1.5"
MIRROR=http://deb.debian.org/debian
RESULTS=$CACHE/results

log() { printf '\033[1m[pi-check]\033[0m %s\n' "$*" >&2; }
die() { printf '[pi-check] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tables
# results/<release>-<branch>.tsv: step <TAB> ok|FAIL|MISSING <TAB> seconds <TAB> detail
STEPS=(rootfs setup setup-again numpy litert analyze doctor run service tests)
# A cell's latest results: the finished run's file, or a newer unfinished one (still running, or
# stopped), which the table then marks as unfinished.
results_file() {
  local f=$RESULTS/$1-$2.tsv
  if [ -f "$f.tmp" ] && { [ ! -f "$f" ] || [ "$f.tmp" -nt "$f" ]; }; then echo "$f.tmp"; else echo "$f"; fi
}
cell() {
  local f line
  f=$(results_file "$1" "$2")
  [ -f "$f" ] || { echo "not run"; return; }
  line=$(awk -F'\t' -v s="$3" '$1 == s' "$f" | tail -n 1)
  [ -n "$line" ] || { echo "-"; return; }
  awk -F'\t' '{ d = ($4 == "" ? "" : " " $4); printf "%s %ss%s", $2, $3, d }' <<<"$line" | sed 's/|/\\|/g'
}
tables() {
  local rel stamp br f
  for rel in bookworm trixie; do
    stamp=""
    for br in plain pi; do
      f=$(results_file "$rel" "$br")
      [ -f "$f" ] || continue
      stamp="$stamp $br: $(sed -n 's/^# //p' "$f" | head -n 1)"
      case "$f" in *.tmp) stamp="$stamp (**unfinished**: still running or stopped when this table was written; steps not reached show -)" ;; esac
      stamp="$stamp;"
    done
    echo
    echo "### $rel (arm64, emulated)"
    echo
    echo "Runs:${stamp:- none}"
    echo
    echo "| step | plain Debian | Pi branch forced |"
    echo "|---|---|---|"
    for s in "${STEPS[@]}"; do
      echo "| $s | $(cell "$rel" plain "$s") | $(cell "$rel" pi "$s") |"
    done
  done
}
# The doc keeps its prose; the tables go between the two marker lines (appended if absent).
write_doc() {
  local begin="<!-- pi-check:begin -->" end="<!-- pi-check:end -->" t
  t=$(mktemp)
  tables >"$t"
  [ -f "$DOC" ] && grep -qx "$begin" "$DOC" || printf '\n%s\n%s\n' "$begin" "$end" >>"$DOC"
  awk -v b="$begin" -v e="$end" -v t="$t" '
    $0 == b { print; while ((getline l < t) > 0) print l; skip = 1; next }
    $0 == e { skip = 0 }
    !skip' "$DOC" >"$DOC.new" && mv "$DOC.new" "$DOC"
  rm -f "$t"
  log "tables written to $DOC"
}
if [ "$TABLE_ONLY" -eq 1 ]; then
  tables
  [ -z "$DOC" ] || write_doc
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, chroot, mounts, binfmt_misc)"
# A private mount namespace: nothing mounted for the chroots can reach the host's own mounts, and
# all of it goes away with this script, however it ends.
# It runs from a copy: bash reads a script as it goes, and the checkout may change meanwhile.
if [ -z "${PI_CHECK_IN_NAMESPACE:-}" ]; then
  copy=$(mktemp --suffix=.sh /tmp/pi-check.XXXXXX)
  cp "$0" "$copy"
  PI_CHECK_IN_NAMESPACE=1 PI_CHECK_REPO=$REPO exec unshare --mount --propagation private bash "$copy" "${ARGS[@]}"
fi
case "$0" in /tmp/pi-check.*.sh) rm -f "$0" ;; esac
[ -d "$SHARED/samples" ] || die "no ../shared beside the repo ($SHARED)"
mkdir -p "$CACHE" "$RESULTS"

# ---------------------------------------------------------------- emulator
# Debian 12's qemu-user 7.2 segfaults inside LiteRT (allocate_tensors); trixie's qemu 10 runs it.
qemu_major() { "$1" --version 2>/dev/null | sed -n 's/^qemu-aarch64 version \([0-9]*\).*/\1/p'; }
ensure_qemu() {
  local e=/proc/sys/fs/binfmt_misc/qemu-aarch64-pi-check interp q
  [ -f /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  # Our own entry, registered last so it comes before any older arm64 entry of the host: qemu >= 10
  # with F (emulator opened at registration, so no copy inside the chroot) and C (set-uid
  # programs such as sudo take the arm64 binary's credentials).
  if [ -f "$e" ] && head -n 1 "$e" | grep -qx enabled; then
    interp=$(sed -n 's/^interpreter //p' "$e")
    if [ "$(qemu_major "$interp")" -ge 10 ] 2>/dev/null && grep -q '^flags: OCF' "$e"; then
      QEMU=$interp
      return
    fi
  fi
  for q in /usr/bin/qemu-aarch64 /usr/bin/qemu-aarch64-static "$CACHE/qemu/usr/bin/qemu-aarch64"; do
    if [ -x "$q" ] && [ "$(qemu_major "$q")" -ge 10 ] 2>/dev/null && file -L "$q" | grep -q static; then
      QEMU=$q
      break
    fi
  done
  if [ -z "${QEMU:-}" ]; then
    # This host's qemu is older: take trixie's static qemu-user, unpacked into the cache only
    # (a private apt state, so the host's own apt sources and packages stay as they are).
    log "fetching trixie's qemu-user into $CACHE/qemu"
    local a=$CACHE/apt-trixie
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$CACHE/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" >"$a/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent
      -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o Dir::State::status=/dev/null)
    apt-get "${opts[@]}" update -qq
    (cd "$CACHE/debs" && apt-get "${opts[@]}" download qemu-user 2>/dev/null)
    rm -rf "$CACHE/qemu" && dpkg-deb -x "$CACHE"/debs/qemu-user_*.deb "$CACHE/qemu"
    QEMU=$CACHE/qemu/usr/bin/qemu-aarch64
  fi
  local name=qemu-aarch64-pi-check
  [ -f "/proc/sys/fs/binfmt_misc/$name" ] && echo -1 >"/proc/sys/fs/binfmt_misc/$name"
  printf '%s' ":$name:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:$QEMU:OCF" \
    >/proc/sys/fs/binfmt_misc/register
  log "arm64 binaries run through $QEMU ($("$QEMU" --version | head -n 1)), binfmt entry $name"
}

# ---------------------------------------------------------------- root filesystems
build_rootfs() {
  local rel=$1 dir=$CACHE/rootfs-$1
  [ -f "$dir/.complete" ] && return 0
  command -v mmdebstrap >/dev/null && command -v arch-test >/dev/null \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap arch-test >/dev/null
  log "building the $rel arm64 root filesystem (once; cached in $dir)"
  rm -rf "$dir.tmp"
  # What a Raspberry Pi OS Lite image brings that matters here: python3, git, sudo, systemd.
  # Everything else must come from setup.sh itself.
  # --skip=check/qemu: the emulator is our own F-flag binfmt entry (ensure_qemu), which
  # mmdebstrap does not know by name; without the skip it wants a qemu-aarch64-static to copy in.
  mmdebstrap --mode=root --arch=arm64 --variant=minbase --skip=check/qemu \
    --include=ca-certificates,git,python3,sudo,curl,systemd,procps,iproute2 \
    "$rel" "$dir.tmp" \
    "deb $MIRROR $rel main" "deb $MIRROR $rel-updates main" "deb http://deb.debian.org/debian-security $rel-security main"
  touch "$dir.tmp/.complete"
  mv "$dir.tmp" "$dir"
}

# ---------------------------------------------------------------- one run
ROOT=""
MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
  MOUNTS=()
  if [ -n "$ROOT" ] && [ "$KEEP" -eq 0 ]; then remove_run "$(dirname "$ROOT")"; fi
}
# A run folder is removed only with nothing mounted below it (/dev and ../shared are bound in).
remove_run() {
  [ -e "$1" ] || return 0
  if awk '{ print $5 }' /proc/self/mountinfo | grep -q "^$1/"; then
    log "not removing $1: something is still mounted below it"
    return 1
  fi
  rm -rf --one-file-system "$1"
}
trap cleanup EXIT
bind() { mkdir -p "$2" && mount --bind "$1" "$2" && MOUNTS+=("$2"); }

# As user pi inside the chroot, with a login environment; QEMU_CPU reaches the emulator.
as_pi() { chroot "$ROOT" /usr/bin/env -i HOME=/home/pi USER=pi LOGNAME=pi SHELL=/bin/bash \
  PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 QEMU_CPU="$CPU" ${SANDBOX_ENV:-} ${PI_ENV:-} \
  /usr/sbin/runuser -u pi -- /bin/bash -c "$1"; }
as_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 QEMU_CPU="$CPU" ${SANDBOX_ENV:-} ${PI_ENV:-} /bin/bash -c "$1"; }

# ---------------------------------------------------------------- this sandbox's network
# Under emulation pip does not byte-compile what it installs (PIP_NO_COMPILE=1): compiling every
# module of scipy, numpy, opencv, weasyprint... under qemu is most of an emulated setup's time, and
# what is imported compiles on first import anyway. On a Pi setup.sh compiles as usual (the service
# user cannot write the checkout's __pycache__, so it needs them made at setup).
#
# A property of the machine running the check, not of a Pi: where the host reaches PyPI through a
# TLS-intercepting proxy, the host trusts that proxy's CA (a local CA in
# /usr/local/share/ca-certificates, PIP_CERT in the host's environment or pip.conf), and the
# chroot must trust it too or pip stops with "CERTIFICATE_VERIFY_FAILED ... self-signed
# certificate in certificate chain". So, only when the host has local CAs: they are added to the
# chroot's system bundle (appended, no emulated update-ca-certificates run; they are also copied
# to /usr/local/share/ca-certificates so a later update-ca-certificates keeps them), and pip,
# requests and OpenSSL inside the chroot are pointed at that bundle explicitly, because pip may
# verify against its own vendored certifi rather than the system store, and pip's isolated build
# environments (setuptools for the editable install) are separate pip processes that only inherit
# the environment. The host's other pip settings (find-links, local indexes) hold x86-64 wheels and
# are not passed in. On a real Pi none of this applies: setup.sh is run as it is.
SANDBOX_ENV=""
SANDBOX_NOTE=""
sandbox_ca() {
  local cas=() c
  for c in /usr/local/share/ca-certificates/*.crt; do [ -f "$c" ] && cas+=("$c"); done
  SANDBOX_ENV="PIP_NO_COMPILE=1"
  [ ${#cas[@]} -gt 0 ] || return 0
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp "${cas[@]}" "$ROOT/usr/local/share/ca-certificates/"
  cat "${cas[@]}" >>"$ROOT/etc/ssl/certs/ca-certificates.crt"
  local b=/etc/ssl/certs/ca-certificates.crt
  SANDBOX_ENV="$SANDBOX_ENV PIP_CERT=$b REQUESTS_CA_BUNDLE=$b SSL_CERT_FILE=$b"
  SANDBOX_NOTE="host's local CAs trusted in the chroot: $(basename -a "${cas[@]}" | tr '\n' ' ' | sed 's/ $//')"
  log "$SANDBOX_NOTE (PIP_CERT, REQUESTS_CA_BUNDLE, SSL_CERT_FILE = $b)"
}

TSV=""
LOGDIR=""
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$TSV"; log "$REL/$BR $1: $2 ${3}s $4"; }
# step NAME COMMAND...: time it, keep its output in the log dir, record ok/FAIL with the last line.
step() {
  local name=$1 t0 rc=0 secs
  shift
  t0=$(date +%s)
  "$@" >"$LOGDIR/$name.log" 2>&1 || rc=$?
  secs=$(($(date +%s) - t0))
  LAST_LOG=$LOGDIR/$name.log
  if [ "$rc" -eq 0 ]; then STEP_OK=1; else STEP_OK=0; fi
  STEP_SECS=$secs
  STEP_RC=$rc
}
last_line() { grep -v '^\s*$' "$1" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-160 | tr '\t' ' '; }

run_one() {
  REL=$1 BR=$2
  local run=$CACHE/run-$REL-$BR
  cleanup
  remove_run "$run"
  mkdir -p "$run"/{upper,work,root,logs}
  ROOT=$run/root
  LOGDIR=$run/logs
  TSV=$RESULTS/$REL-$BR.tsv.tmp
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), repo $(git -C "$REPO" rev-parse --short HEAD), QEMU_CPU=$CPU, $("$QEMU" --version | head -n 1 | sed 's/ (.*//')" >"$TSV"
  log "=== $REL, $BR branch ==="

  mount -t overlay overlay -o "lowerdir=$CACHE/rootfs-$REL,upperdir=$run/upper,workdir=$run/work" "$ROOT"
  MOUNTS+=("$ROOT")
  mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc")
  bind /sys "$ROOT/sys"
  bind /dev "$ROOT/dev"
  bind /dev/pts "$ROOT/dev/pts"
  mount -t tmpfs tmpfs "$ROOT/tmp" && MOUNTS+=("$ROOT/tmp")
  mount -t tmpfs tmpfs "$ROOT/dev/shm" && MOUNTS+=("$ROOT/dev/shm")
  # apt downloads kept per cell (apt locks the folder, and cells may run at the same time)
  mkdir -p "$CACHE/apt-archives-$REL-$BR/partial"
  bind "$CACHE/apt-archives-$REL-$BR" "$ROOT/var/cache/apt/archives"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost\n' "$(uname -n)" >"$ROOT/etc/hosts"
  sandbox_ca
  [ -z "$SANDBOX_NOTE" ] || echo "# sandbox: $SANDBOX_NOTE" >>"$TSV"
  as_root "useradd -m -s /bin/bash -G sudo pi && echo 'pi ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/010_pi-nopasswd"
  # pip's download cache is kept per cell between runs, like the apt archives: downloading (TLS
  # and hashing, emulated) 150 MB of wheels again is minutes of the setup step, and proves nothing.
  mkdir -p "$CACHE/pip-$REL-$BR"
  chown -R "$(as_root 'id -u pi'):$(as_root 'id -g pi')" "$CACHE/pip-$REL-$BR"
  bind "$CACHE/pip-$REL-$BR" "$ROOT/home/pi/.cache/pip"
  as_root 'chown pi:pi /home/pi/.cache'
  bind "$SHARED" "$ROOT/home/pi/shared"
  mount -o remount,bind,ro "$ROOT/home/pi/shared"
  git -C "$REPO" bundle create "$ROOT/tmp/repo.bundle" HEAD >/dev/null 2>&1
  as_pi "git -c advice.detachedHead=false -c init.defaultBranch=main clone -q /tmp/repo.bundle ~/gait-station"

  PI_ENV=""
  if [ "$BR" = pi ]; then
    printf '%s\0' "$PI_MODEL" >"$ROOT/etc/fake-device-tree-model"
    PI_ENV="GAIT_PI_MODEL_FILE=/etc/fake-device-tree-model GAIT_SETUP_ALLOW_MISSING_APT=1"
  fi
  local py
  py=$(as_pi 'python3 --version' 2>&1)
  record rootfs ok 0 "$REL arm64, $py"

  # The README's first command (its `run` part is the run step below).
  step setup as_pi "cd ~/gait-station && bash setup.sh"
  local missing
  missing=$(sed -n 's/.*apt sources, skipped: //p' "$LAST_LOG" | sed 's/\x1b\[[0-9;]*m//g' | tr '\n' ' ' | sed 's/ *$//')
  if [ "$STEP_OK" -eq 1 ] && [ -n "$missing" ]; then
    record setup ok "$STEP_SECS" "Pi OS-only apt packages not in Debian, skipped: $missing"
  elif [ "$STEP_OK" -eq 1 ]; then
    record setup ok "$STEP_SECS" ""
  else
    record setup FAIL "$STEP_SECS" "rc $STEP_RC: $(last_line "$LAST_LOG")"
    finish_run
    return
  fi
  step setup-again as_pi "cd ~/gait-station && bash setup.sh"
  record setup-again "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" "$(last_line "$LAST_LOG" | sed 's/ *(dashboard.*//')"

  step numpy as_pi 'cd ~/gait-station && sysnp=$(/usr/bin/python3 -s -c "import numpy; print(numpy.__version__)" 2>/dev/null || echo none)
    venvnp=$(.venv/bin/python -c "import numpy; print(numpy.__version__)")
    echo "venv numpy $venvnp, system numpy $sysnp"
    [ "$sysnp" = none ] || [ "${sysnp%%.*}" = "${venvnp%%.*}" ]'
  record numpy "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" "$(last_line "$LAST_LOG")"

  # The acceptance's own command, verbatim, with its output and exit status; then where numpy comes
  # from (on the Pi branch: the system's, through --system-site-packages) and pip check.
  step litert as_pi 'cd ~/gait-station && echo "\$ .venv/bin/python -c \"import numpy, ai_edge_litert.interpreter\""
    .venv/bin/python -c "import numpy, ai_edge_litert.interpreter"; rc=$?; echo "exit $rc"; [ $rc = 0 ] || exit 1
    .venv/bin/python -c "import numpy, importlib.metadata as m; print(\"numpy\", numpy.__version__, \"from\", numpy.__file__.rsplit(\"/\", 2)[0] + \",\", \"ai-edge-litert\", m.version(\"ai-edge-litert\"))"
    .venv/bin/python -m pip check'
  record litert "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" "$(sed -n 2p "$LAST_LOG"); $(sed -n 3p "$LAST_LOG" | cut -c1-110); $(last_line "$LAST_LOG")"

  step analyze as_pi 'cd ~/gait-station && .venv/bin/gait-station analyze ~/shared/samples/treadmill_side_18fps.gif --json /tmp/gif.json >/dev/null &&
    .venv/bin/python -c "import json; a = json.load(open(\"/tmp/gif.json\")); print(\"treadmill_side_18fps.gif: cadence\", round(a[\"cadence_spm\"]), \"spm\")"'
  record analyze "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" "$(last_line "$LAST_LOG")"

  step doctor as_pi 'cd ~/gait-station && .venv/bin/gait-station doctor'
  record doctor "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" \
    "exit $STEP_RC; $(grep -c '✓' "$LAST_LOG") ✓, $(grep -c '^ *!' "$LAST_LOG") !, $(grep -c '✗' "$LAST_LOG") ✗"

  step run run_station
  record run "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" "$(last_line "$LAST_LOG")"

  if [ "$BR" = pi ]; then
    step service check_service
    record service "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" "$(last_line "$LAST_LOG")"
  fi

  if [ "$TESTS" != none ]; then
    step tests run_tests
    record tests "$([ "$STEP_OK" -eq 1 ] && echo ok || echo FAIL)" "$STEP_SECS" \
      "$TESTS: $(grep -E '[0-9]+ (passed|failed)' "$LAST_LOG" | tail -n 1 | tr -d '=' | sed 's/^ *//;s/ *$//')$(sed -n 's/.*apt sources, skipped: /; apt skipped: /p' "$LAST_LOG" | sed 's/\x1b\[[0-9;]*m//g' | head -n 1)"
  fi
  finish_run
}

finish_run() {
  mv "$TSV" "$RESULTS/$REL-$BR.tsv"
  cp -r "$LOGDIR" "$RESULTS/$REL-$BR-logs.new" && rm -rf "$RESULTS/$REL-$BR-logs" && mv "$RESULTS/$REL-$BR-logs.new" "$RESULTS/$REL-$BR-logs"
  cleanup
  ROOT=""
}

# `gait-station run` on the synthetic runner: the live loop turns (camera_ok, frame_t moving on
# between two reads of /api/status), the dashboard answers, SIGTERM stops it cleanly.
run_station() {
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pi "cd ~/gait-station && export GAIT_STATION_API_TOKEN=pi-check-token
    .venv/bin/gait-station run --source synthetic --host 127.0.0.1 --port $port --data-dir /tmp/station >/tmp/station.log 2>&1 &
    pid=\$!
    status() { curl -fsS -H 'Authorization: Bearer pi-check-token' http://127.0.0.1:$port/api/status 2>/dev/null; }
    frame_t() { status | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s[\"frame_t\"] if s[\"camera_ok\"] and s[\"frame_t\"] else \"\")' 2>/dev/null; }
    t1=''
    for i in \$(seq 1 900); do
      sleep 1
      kill -0 \$pid 2>/dev/null || break
      t1=\$(frame_t) && [ -n \"\$t1\" ] && break
    done
    sleep 10
    t2=\$(frame_t)
    login=\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/login)
    page=\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/)
    kill -TERM \$pid 2>/dev/null; wait \$pid; rc=\$?
    tail -n 5 /tmp/station.log
    echo \"live after \${i}s (frame_t \$t1 then \$t2 s); GET /login \$login, GET / \$page; exit \$rc after SIGTERM\"
    [ -n \"\$t1\" ] && [ -n \"\$t2\" ] && python3 -c \"import sys; sys.exit(0 if float('\$t2') > float('\$t1') else 1)\" &&
      [ \$login = 200 ] && [ \$page = 302 ] && [ \$rc = 0 ]"
}

# sudo bash setup.sh --install-service, then the installed unit as far as a chroot allows.
check_service() {
  as_pi 'cd ~/gait-station && sudo --preserve-env=GAIT_PI_MODEL_FILE,GAIT_SETUP_ALLOW_MISSING_APT,QEMU_CPU,PIP_NO_COMPILE,PIP_CERT,REQUESTS_CA_BUNDLE,SSL_CERT_FILE bash setup.sh --install-service' || return 1
  as_root 'set -e
    u=/etc/systemd/system/gait-station.service
    test -f "$u"
    ! grep -n "@[A-Z_]*@" "$u"
    # verify exits 0 even for unknown keys or bad values: any remark about the unit is a defect.
    out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$u" 2>&1) || { echo "$out"; exit 1; }
    if echo "$out" | grep "gait-station.service"; then exit 1; fi
    echo "systemd-analyze verify: no remark about the unit${out:+ (other output: $(echo "$out" | head -n 3 | tr "\n" ";"))}"
    user=$(sed -n "s/^User=//p" "$u"); group=$(sed -n "s/^Group=//p" "$u")
    [ "$user" != root ] && id "$user" && getent group "$group" >/dev/null
    for g in $(sed -n "s/^SupplementaryGroups=//p" "$u"); do
      getent group "$g" >/dev/null || { echo "group $g missing: the unit would not start"; exit 1; }
      id -nG "$user" | tr " " "\n" | grep -qx "$g" || { echo "$user is not in group $g"; exit 1; }
    done
    exe=$(sed -n "s/^ExecStart=\([^ ]*\).*/\1/p" "$u"); test -x "$exe"
    wd=$(sed -n "s/^WorkingDirectory=//p" "$u"); test -d "$wd"
    test "$(stat -c %U "$wd")" = "$user"
    test -f "$wd/models/movenet_singlepose_lightning_int8_4.tflite"
    # The service user can reach and run the venv (the checkout lives in /home/pi).
    runuser -u "$user" -- "$exe" --version
    runuser -u "$user" -- "$exe" doctor --data-dir "$wd" --no-camera >/tmp/doctor-service.log 2>&1 || { cat /tmp/doctor-service.log; exit 1; }
    systemctl is-enabled gait-station.service
    echo "unit: verify clean, user $user ($(id -nG "$user" | tr " " ,)), $exe runs as $user, data dir $wd, enabled"'
}

run_tests() {
  # Test dependencies through the README's test command; the browser tests need Chromium, which
  # does not run under qemu-user, so they are deselected. Timeouts sized for native speed are
  # stretched by GAIT_TEST_TIME_SCALE (tests/support/timing.py).
  # Chromium is pinned away (apt priority -1): it would cost many emulated package installs for
  # nothing; setup.sh then names it as not installable and goes on.
  printf 'Package: chromium\nPin: release *\nPin-Priority: -1\n' >"$ROOT/etc/apt/preferences.d/no-chromium-under-qemu"
  PI_ENV="$PI_ENV GAIT_SETUP_ALLOW_MISSING_APT=1" as_pi "cd ~/gait-station && bash setup.sh --with-tests" || return 1
  # The 100-session soak is a leak check of the same Python code, hours under emulation: left out.
  local sel="tests --deselect tests/device/test_soak.py::test_100_sessions_back_to_back_without_leaks"
  # quick: what a Pi adds to the picture (setup.sh itself is what the cell has just run).
  [ "$TESTS" = quick ] && sel="tests/device/test_analyze_cli.py tests/device/test_doctor.py tests/device/pose tests/device/test_systemd_unit.py"
  # fast: the fast tier of docs/testing.md (everything not marked slow), for cells run side by side.
  local marks="not browser"
  [ "$TESTS" = fast ] && marks="not browser and not slow"
  echo "tests ($TESTS): $sel -m '$marks', GAIT_TEST_TIME_SCALE=$TIME_SCALE"
  # As root, as CI runs it: the printing tests start a private cupsd, which runs the cups-pdf
  # backend only when it is root itself (tests/cups_server.py).
  as_root "cd /home/pi/gait-station && CI=true GAIT_TEST_TIME_SCALE=$TIME_SCALE .venv/bin/python -m pytest $sel -m '$marks' -q -p no:cacheprovider -o addopts= -rfE --durations=15 2>&1"
}

ensure_qemu
for rel in "${RELEASES[@]}"; do build_rootfs "$rel"; done
for rel in "${RELEASES[@]}"; do
  for br in "${BRANCHES[@]}"; do run_one "$rel" "$br"; done
done
tables
[ -z "$DOC" ] || write_doc
