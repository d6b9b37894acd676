"""setup.sh's platform decisions, run for real on a copy of the script with faked platform facts.

The refusals must come before setup.sh changes anything (no apt, no .venv); ``--plan`` prints the
numpy constraint the install would use, from the same function the install calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def rig(tmp_path: Path):
    """A copy of setup.sh in an empty folder, a bin/ of fakes in front of PATH, a call log."""
    home = tmp_path / "checkout"
    home.mkdir()
    shutil.copy(REPO / "setup.sh", home / "setup.sh")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "calls.log"
    # Anything that would change the system records the call and fails.
    for tool in ("apt-get", "sudo", "useradd", "systemctl"):
        _script(fake_bin / tool, f'echo "{tool} $*" >>{calls}; exit 1')

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "PYTHON": sys.executable}
        # the caller's own setup.sh switches (tools/pi-check.sh sets them) must not leak in
        full.pop("GAIT_PI_MODEL_FILE", None)
        full.pop("GAIT_SETUP_ALLOW_MISSING_APT", None)
        full.update(env or {})
        return subprocess.run(
            ["bash", str(home / "setup.sh"), *args], capture_output=True, text=True, env=full, timeout=60
        )

    run.home = home
    run.bin = fake_bin
    run.calls = calls
    run.tmp = tmp_path
    return run


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)
    return path


def _refused(res: subprocess.CompletedProcess[str], rig, words: str) -> None:
    assert res.returncode == 1, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and words in lines[0], res.stderr  # one clear line
    assert not (rig.home / ".venv").exists()
    assert not rig.calls.exists(), rig.calls.read_text()  # refused before touching the system


def test_refuses_a_32_bit_userland_under_a_64_bit_kernel(rig) -> None:
    # 32-bit Raspberry Pi OS on a Pi 4/5 boots the 64-bit kernel: uname says aarch64, dpkg says armhf.
    _script(rig.bin / "dpkg", '[ "$1" = --print-architecture ] && echo armhf')
    _script(rig.bin / "uname", "echo aarch64")
    _refused(rig(), rig, "32-bit userland (dpkg: armhf, Python: 64-bit, kernel: aarch64)")


def test_refuses_a_32_bit_python(rig) -> None:
    py = _script(
        rig.tmp / "python32",
        f'case "$*" in *calcsize*) echo 32 ;; *) exec {sys.executable} "$@" ;; esac',
    )
    _refused(rig(env={"PYTHON": str(py)}), rig, "Python: 32-bit")


def test_refuses_python_older_than_3_11(rig) -> None:
    site = rig.tmp / "old-python-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.version_info = (3, 9, 2, 'final', 0)\n")
    py = _script(
        rig.tmp / "python39",
        f'[ "$1" = --version ] && {{ echo "Python 3.9.2"; exit 0; }}\n'
        f'PYTHONPATH={site} exec {sys.executable} "$@"',
    )
    _refused(rig(env={"PYTHON": str(py)}), rig, "Python 3.11 or newer is needed, this is Python 3.9.2")


def _plan(rig, *, pi: bool, numpy: str | None) -> str:
    """`setup.sh --plan` with the board model and the system numpy faked."""
    site = rig.tmp / "system-site"
    site.mkdir(exist_ok=True)
    if numpy is None:
        (site / "numpy.py").write_text("raise ImportError('no numpy here')\n")
    else:
        (site / "numpy.py").write_text(f"__version__ = {numpy!r}\n")
    model = rig.tmp / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00" if pi else b"Pine64 RockPro64\x00")
    res = rig("--plan", env={"PYTHONPATH": str(site), "GAIT_PI_MODEL_FILE": str(model)})
    assert res.returncode == 0, res.stderr
    assert not (rig.home / ".venv").exists()
    return res.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("numpy", "constraint"),
    [("1.24.2", "numpy>=1,<2"), ("2.2.4", "numpy>=2,<3"), (None, "none")],
    ids=["bookworm", "trixie", "no-system-numpy"],
)
def test_pi_numpy_follows_the_system_major_version(rig, numpy: str | None, constraint: str) -> None:
    out = _plan(rig, pi=True, numpy=numpy)
    assert "raspberry pi: yes (Raspberry Pi 5 Model B Rev 1.0)" in out
    assert f"numpy constraint: {constraint}\n" in out


def test_no_numpy_pin_off_the_pi(rig) -> None:
    out = _plan(rig, pi=False, numpy="1.24.2")
    assert "raspberry pi: no" in out
    assert "numpy constraint: none\n" in out


@pytest.mark.slow
def test_pi_packages_planned_only_on_a_pi(rig) -> None:
    assert "python3-picamera2" in _plan(rig, pi=True, numpy="2.2.4")
    assert "python3-picamera2" not in _plan(rig, pi=False, numpy="2.2.4")


@pytest.mark.slow
def test_big_wheels_are_never_built_from_source(rig) -> None:
    out = _plan(rig, pi=True, numpy="2.2.4")
    only = next(ln for ln in out.splitlines() if ln.startswith("wheels only: "))
    assert {"numpy", "scipy", "opencv-python-headless", "ai-edge-litert", "uvloop"} <= set(
        only[13:].split(",")
    )


def _apt_rig(rig) -> None:
    """Debian's apt without Raspberry Pi OS's own packages: nothing installed yet, and
    python3-picamera2 / python3-lgpio have no candidate; apt-get install records and stops setup."""
    _script(rig.bin / "dpkg-query", "exit 1")
    _script(
        rig.bin / "apt-cache",
        'shift; for p in "$@"; do case "$p" in\n'
        '  python3-picamera2 | python3-lgpio) printf "%s:\\n  Candidate: (none)\\n" "$p" ;;\n'
        '  *) printf "%s:\\n  Installed: (none)\\n  Candidate: 1.0-1\\n" "$p" ;; esac; done',
    )
    _script(rig.bin / "apt-get", f'echo "apt-get $*" >>{rig.calls}; [ "$1" = update ]')
    _script(rig.bin / "sudo", 'exec "$@"')
    model = rig.tmp / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\x00")
    rig.env = {"GAIT_PI_MODEL_FILE": str(model)}


def test_pi_os_packages_missing_from_apt_stop_setup_with_their_names(rig) -> None:
    _apt_rig(rig)
    res = rig(env=rig.env)
    assert res.returncode == 1
    assert "not available from this system's apt sources: python3-picamera2 python3-lgpio" in res.stderr
    installs = [ln for ln in rig.calls.read_text().splitlines() if " install " in ln]
    assert installs == []  # nothing half-installed
    assert not (rig.home / ".venv").exists()


def test_check_mode_names_and_skips_them_and_installs_the_rest(rig) -> None:
    _apt_rig(rig)
    res = rig(env={**rig.env, "GAIT_SETUP_ALLOW_MISSING_APT": "1"})
    assert "skipped: python3-picamera2 python3-lgpio" in res.stdout
    installs = [ln for ln in rig.calls.read_text().splitlines() if " install " in ln]
    assert len(installs) == 1, installs  # the fake apt-get install fails, which stops setup
    assert "python3-libcamera" in installs[0] and "python3-numpy" in installs[0]
    assert "python3-picamera2" not in installs[0] and "python3-lgpio" not in installs[0]
    assert res.returncode != 0
