"""The code base stays ruff-clean (rules in pyproject.toml): part of the suite so CI guards it."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
#: mypy's verdict depends on the numpy stubs it reads. The code is type-checked against numpy 2.4
#: and newer: what setup.sh installs off a Pi, and what CI gets. A Pi keeps its system numpy for
#: Picamera2 (1.26 on bookworm, 2.2 on trixie), whose stubs type the same code differently
#: (tools/pi-check.sh: 2 and 20+ errors there, in lines that are right at run time).
TYPED_AGAINST_NUMPY = (2, 4)


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "check", "--no-cache", "device", "web", "tests", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "format", "--check", "--no-cache", "device", "web", "tests", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean() -> None:
    """The type checker passes over device/ and web/, and over the web tests' FakeStation and the
    station contract test, which makes mypy check that both the fake and the real Station are a
    StationAPI ([tool.mypy] in pyproject.toml: files, settings, the modules not yet checked).
    Incremental (.mypy_cache): ~20 s of CPU cold, ~2 s warm."""
    if tuple(int(x) for x in np.__version__.split(".")[:2]) < TYPED_AGAINST_NUMPY:
        pytest.skip(
            f"the type check is defined against numpy >= 2.4's stubs; this venv has numpy "
            f"{np.__version__} (a Raspberry Pi's system numpy, kept for Picamera2)"
        )
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
