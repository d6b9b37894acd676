"""Shared test fixtures.

``../shared`` (models, sample clips, validation data) sits beside the repository. Tests that
need it skip on a developer machine without it, but FAIL in CI (``CI=true``): a missing data
set must never turn into a green run that tested nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GAIT_STATION_SHARED", REPO.parent / "shared"))


def _need(path: Path) -> Path:
    if not path.exists():
        msg = f"shared test data missing: {path}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg + " (CI=true: required)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _need(SHARED)


@pytest.fixture(scope="session")
def model_path() -> Path:
    return _need(SHARED / "models" / "movenet_singlepose_lightning_int8_4.tflite")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return _need(SHARED / "samples")


@pytest.fixture(scope="session")
def validation_dir() -> Path:
    return _need(SHARED / "validation")


@pytest.fixture(autouse=True)
def _mock_gpio(monkeypatch: pytest.MonkeyPatch) -> None:
    # gpiozero drives the same code paths on its MockFactory; never touch real pins in tests.
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
