"""Pose fixtures: the real model and the GIF's frames, decoded and estimated once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def gif_path(samples_dir: Path) -> Path:
    return samples_dir / "treadmill_side_18fps.gif"


@pytest.fixture(scope="session")
def gif_frames(gif_path: Path) -> list:
    from device.camera.video import VideoFileSource

    with VideoFileSource(gif_path) as src:
        return list(src)


@pytest.fixture(scope="session")
def estimator(model_path: Path):
    from device.pose.movenet import MoveNetEstimator

    est = MoveNetEstimator(model_path, num_threads=2, quiet=True)
    yield est
    est.close()


@pytest.fixture(scope="session")
def gif_keypoints(estimator, gif_frames) -> np.ndarray:
    """(90, 17, 3) raw keypoints of the GIF, with the smart crop running as in production."""
    estimator.reset()
    return np.stack([estimator.estimate(f.image).copy() for f in gif_frames])
