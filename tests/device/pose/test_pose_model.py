"""Finding and checking the model file; clear errors for missing or broken models."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.config import Config
from device.errors import UserError
from device.pose.model import (
    DEFAULT_MODEL_FILE,
    DEFAULT_MODEL_SHA256,
    ModelError,
    resolve_model_path,
    verify_model,
)


def _cfg(tmp_path: Path, model_path: str = "") -> Config:
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path / "data")
    cfg.pose.model_path = model_path
    return cfg


def test_configured_path_wins(tmp_path: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAIT_STATION_MODEL", str(tmp_path / "elsewhere.tflite"))
    assert resolve_model_path(_cfg(tmp_path, str(model_path))) == model_path


def test_configured_path_missing_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        resolve_model_path(_cfg(tmp_path, str(tmp_path / "nope.tflite")))


def test_env_then_data_dir_then_shared(
    tmp_path: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAIT_STATION_MODEL", raising=False)
    cfg = _cfg(tmp_path)
    # Nothing downloaded: the repository's ../shared copy.
    assert resolve_model_path(cfg).resolve() == model_path.resolve()
    downloaded = cfg.data_dir / "models" / DEFAULT_MODEL_FILE
    downloaded.parent.mkdir(parents=True)
    downloaded.write_bytes(model_path.read_bytes())
    assert resolve_model_path(cfg) == downloaded
    monkeypatch.setenv("GAIT_STATION_MODEL", str(model_path))
    assert resolve_model_path(cfg) == model_path
    monkeypatch.setenv("GAIT_STATION_MODEL", str(tmp_path / "missing.tflite"))
    with pytest.raises(ModelError, match="GAIT_STATION_MODEL"):
        resolve_model_path(cfg)


def test_verify_model(model_path: Path, tmp_path: Path) -> None:
    assert verify_model(model_path, DEFAULT_MODEL_SHA256) == DEFAULT_MODEL_SHA256
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(model_path.read_bytes()[:1000])
    with pytest.raises(ModelError, match="not the expected file"):
        verify_model(bad)
    with pytest.raises(ModelError, match="not found"):
        verify_model(tmp_path / "missing.tflite")


@pytest.mark.parametrize("content", [b"", b"this is not a flatbuffer at all" * 10, "truncated"])
def test_broken_model_files_give_user_errors(tmp_path: Path, model_path: Path, content) -> None:
    from device.pose.movenet import MoveNetEstimator

    bad = tmp_path / "broken.tflite"
    bad.write_bytes(model_path.read_bytes()[:200_000] if content == "truncated" else content)
    with pytest.raises(UserError) as info:
        MoveNetEstimator(bad, num_threads=1, quiet=True)
    assert "\n" not in str(info.value) and str(bad) in str(info.value)


def test_missing_model_file(tmp_path: Path) -> None:
    from device.pose.movenet import MoveNetEstimator

    with pytest.raises(ModelError, match="not found"):
        MoveNetEstimator(tmp_path / "none.tflite")
