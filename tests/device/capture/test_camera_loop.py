"""The camera loop's retries: a camera that is missing is tried again every few seconds, and the
log says so once when it goes and once when it is back, not at every try."""

from __future__ import annotations

import logging

from device.camera.base import Frame, FrameSource
from device.capture import camera_loop
from device.capture.camera_loop import CameraLoop
from device.errors import SourceError
from tests.support.eventually import eventually

from .capture_fakes import ScriptedSource


def test_a_missing_camera_is_logged_once_and_its_return_once(monkeypatch, caplog) -> None:
    monkeypatch.setattr(camera_loop, "SOURCE_RETRY_S", 0.02)
    tries = {"n": 0}

    def factory() -> FrameSource:
        tries["n"] += 1
        if tries["n"] <= 10:
            raise SourceError("webcam 0 not found or busy")
        return ScriptedSource(live=True)

    frames: list[Frame] = []
    loop = CameraLoop("side", factory, lambda f, _p: frames.append(f))
    caplog.set_level(logging.INFO, logger="device.capture.camera_loop")
    loop.start()
    try:
        assert eventually(lambda: len(frames) >= 3, 10)
    finally:
        loop.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "device.capture.camera_loop"]
    assert tries["n"] == 11
    assert lines == ["camera side: webcam 0 not found or busy", "camera side: available again (scripted)"]


def test_a_camera_failing_mid_stream_then_back_is_two_lines(monkeypatch, caplog) -> None:
    monkeypatch.setattr(camera_loop, "SOURCE_RETRY_S", 0.02)
    fail_at = 5
    src = ScriptedSource(live=True, fail_at=fail_at)
    frames: list[Frame] = []
    loop = CameraLoop("rear", lambda: src, lambda f, _p: frames.append(f))
    caplog.set_level(logging.INFO, logger="device.capture.camera_loop")
    loop.start()
    try:
        assert eventually(lambda: src.opened >= 2 and len(frames) >= fail_at + 3, 10)
    finally:
        loop.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "device.capture.camera_loop"]
    assert lines == ["camera rear failed: camera unplugged", "camera rear: available again (scripted)"]
