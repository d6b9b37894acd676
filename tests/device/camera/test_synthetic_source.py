"""The synthetic camera: rendered frames on the model's clock, paced like a camera or not."""

from __future__ import annotations

import time

import numpy as np
import pytest

from device.camera import open_source
from device.camera.base import FrameSource
from device.camera.synthetic import SyntheticSource
from device.config import Config
from device.errors import SourceError
from device.synthetic.runner import RunnerParams
from tests.support.timing import time_scale


def test_not_realtime_yields_every_frame_of_a_duration() -> None:
    src = SyntheticSource(RunnerParams(fps=50), realtime=False, size=(320, 240), duration_s=1.0)
    assert isinstance(src, FrameSource) and not src.is_live
    assert src.size == (320, 240) and src.nominal_fps == 50
    with src:
        frames = list(src)
    assert len(frames) == 50
    assert [f.index for f in frames] == list(range(50))
    np.testing.assert_allclose([f.t for f in frames], np.arange(50) / 50)
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype == np.uint8
    # each frame is its own array (the canvas is reused, the output is not)
    assert not np.shares_memory(frames[0].image, frames[1].image)
    assert np.any(frames[0].image != frames[10].image)


def test_realtime_paces_and_drops_for_a_slow_reader() -> None:
    # Under emulation one synthetic frame takes longer to draw than 1/20 s, so the camera's rate
    # and the reader's nap stretch together (tests/support/timing.py); the counts stay the same.
    fps = 20 / time_scale()
    src = SyntheticSource(realtime=True, size=(320, 240), fps=fps)
    assert src.is_live
    with src:
        t0 = time.monotonic()
        a = src.read()
        b = src.read()
        c = src.read()
        paced = time.monotonic() - t0
        assert [a.index, b.index, c.index] == [0, 1, 2]
        assert paced >= 1.8 / fps  # two frame intervals
        time.sleep(7 / fps)  # a slow reader: about 7 frames go by
        d = src.read()
    assert d.index >= 7
    assert d.t == pytest.approx(d.index / fps)


def test_infinite_by_default() -> None:
    src = SyntheticSource(RunnerParams(fps=100, duration_s=0.05), realtime=False, size=(128, 96))
    with src:
        frames = [src.read() for _ in range(30)]  # params.duration_s does not end the stream
    assert all(f is not None for f in frames)


def test_spec_and_config() -> None:
    cfg = Config()
    src = open_source("synthetic:rear,cadence_spm=182,speed_kmh=12", cfg)
    assert isinstance(src, SyntheticSource)
    assert src.params.view == "rear" and src.params.cadence_spm == 182 and src.params.speed_kmh == 12
    assert src.size == (cfg.camera.width, cfg.camera.height)
    assert src.runner.truth()["cadence_spm"] == 182
    with pytest.raises(SourceError, match="not understood"):
        SyntheticSource.from_spec("sideways")
    with pytest.raises(SourceError, match="not a number"):
        SyntheticSource.from_spec("cadence_spm=fast")
    with pytest.raises(SourceError, match="cadence"):
        SyntheticSource.from_spec("cadence_spm=1000")


def test_the_demo_runner_stands_on_the_framing_guides_belt_line() -> None:
    """The live page says "Belt here: feet always above this line"; the demo's belt was 6 % of
    the picture above its bottom and the guide's 11 %: the demo's feet crossed the line."""
    import re
    from pathlib import Path

    from device.camera.synthetic import GUIDE_BELT_FROM_BOTTOM

    css = (Path(__file__).parents[3] / "web" / "static" / "style.css").read_text(encoding="utf-8")
    rule = re.search(r"\.guide-belt \{[^}]*bottom: ([0-9.]+)%", css)
    assert rule is not None and float(rule.group(1)) / 100 == GUIDE_BELT_FROM_BOTTOM
    cfg = Config()
    src = open_source("synthetic", cfg)
    assert isinstance(src, SyntheticSource)
    belt = src.runner.ground_y_px / cfg.camera.height
    assert belt == pytest.approx(1 - GUIDE_BELT_FROM_BOTTOM)
    feet = src.runner.timeline().xy[:, 15:17, 1]  # the ankles, just above the belt
    assert np.nanmax(feet) < src.runner.ground_y_px
    custom = open_source("synthetic:ground_y_px=600", cfg)
    assert isinstance(custom, SyntheticSource) and custom.runner.ground_y_px == 600


def test_read_before_open_is_an_error() -> None:
    with pytest.raises(SourceError):
        SyntheticSource(realtime=False, size=(128, 96)).read()
