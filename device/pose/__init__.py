"""Pose: the estimator interface, MoveNet on TFLite (LiteRT first) with the smart crop, and the
pipeline that turns a frame source into a keypoint timeline.

Heavy modules (cv2, the runtime) load only when :class:`MoveNetEstimator` is used, so the CLI
starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from device.pose.base import PoseEstimator, new_keypoint_buffer
from device.pose.model import (
    DEFAULT_MODEL_FILE,
    DEFAULT_MODEL_SHA256,
    ModelError,
    resolve_model_path,
    sha256_file,
    verify_model,
)

if TYPE_CHECKING:
    from device.pose.movenet import MoveNetEstimator
    from device.pose.pipeline import body_visible, estimate_frame, run_pose

__all__ = [
    "DEFAULT_MODEL_FILE",
    "DEFAULT_MODEL_SHA256",
    "ModelError",
    "MoveNetEstimator",
    "PoseEstimator",
    "body_visible",
    "estimate_frame",
    "new_keypoint_buffer",
    "resolve_model_path",
    "run_pose",
    "sha256_file",
    "verify_model",
]


def __getattr__(name: str) -> Any:
    if name == "MoveNetEstimator":
        from device.pose.movenet import MoveNetEstimator

        return MoveNetEstimator
    if name in ("run_pose", "estimate_frame", "body_visible"):
        from device.pose import pipeline

        return getattr(pipeline, name)  # PEP 562 lazy loading: name is one of the three above
    raise AttributeError(f"module 'device.pose' has no attribute {name!r}")
