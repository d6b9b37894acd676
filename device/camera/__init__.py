"""Frame sources: Pi camera, webcam, video file, synthetic runner — chosen by a spec string.

:func:`open_source` builds (does not open) the source; open it with ``with source:``. Each
source module imports its heavy library (Picamera2, cv2, PyAV) only when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from device.camera.base import Frame, FrameSource
from device.errors import SourceError

if TYPE_CHECKING:
    from device.config import Config

__all__ = ["Frame", "FrameSource", "is_synthetic", "open_source", "parse_spec", "resolve_spec"]

_KINDS = ("auto", "picamera", "webcam", "synthetic")


def parse_spec(spec: str) -> tuple[str, str]:
    """("picamera"|"webcam"|"synthetic"|"auto"|"file", argument) for a source spec:
    ``picamera[:N]``, ``webcam[:N]``, ``synthetic[:ARG]``, ``auto`` or a video path."""
    s = (spec or "auto").strip()
    head, _, arg = s.partition(":")
    if head.lower() in _KINDS and not Path(s).exists():
        return head.lower(), arg
    return "file", s


def resolve_spec(spec: str) -> str:
    """``spec`` with ``auto`` decided, once: ``picamera`` where Picamera2 imports (a Pi, its
    camera connected or not), else ``synthetic`` (a machine with no Pi camera stack).

    Decided once and never again, because ``auto`` asked again after the camera failed would
    answer "synthetic" while the ribbon cable is out: a customer's run would be replaced by the
    drawn runner. On a Pi a missing camera is reported as missing instead."""
    kind, _arg = parse_spec(spec)
    if kind != "auto":
        return spec
    from device.camera.picamera import picamera_installed

    return "picamera" if picamera_installed() else "synthetic"


def is_synthetic(spec: str) -> bool:
    """The spec (as resolved by :func:`resolve_spec`) films the synthetic runner, not a person."""
    return parse_spec(spec)[0] == "synthetic"


def _index(kind: str, arg: str) -> int:
    if not arg:
        return 0
    try:
        n = int(arg)
    except ValueError:
        raise SourceError(f"camera source {kind}:{arg}: the camera number must be a whole number") from None
    if n < 0:
        raise SourceError(f"camera source {kind}:{arg}: the camera number must be 0 or more")
    return n


def _synthetic(cfg: Config | None, arg: str) -> FrameSource:
    try:
        from device.camera.synthetic import SyntheticSource
    except ImportError as exc:
        raise SourceError(f"the synthetic runner source is not available here ({exc})") from None
    return SyntheticSource.from_spec(arg, cfg)


def open_source(
    spec: str, cfg: Config | None = None, model_input: int = 192, *, upside_down: bool = False
) -> FrameSource:
    """The frame source for ``spec`` (see :func:`parse_spec`), sized from ``cfg.camera``;
    ``upside_down``: a Pi camera mounted upside down (``[camera] upside_down``), turned by its sensor.

    ``auto``: see :func:`resolve_spec` (the Pi camera wherever Picamera2 imports, else the
    synthetic runner). ``model_input``: the pose model's input side, used to size the Pi
    camera's low-res stream.
    """
    cam = cfg.camera if cfg is not None else None
    # fps 0 = auto: a Pi camera's fastest whole-runner mode; 30 for a webcam or the synthetic runner
    width, height, fps = (cam.width, cam.height, cam.fps) if cam else (1280, 720, 0.0)
    kind, arg = parse_spec(resolve_spec(spec))
    if kind == "picamera":
        from device.camera.base import model_image_size
        from device.camera.picamera import PicameraSource

        return PicameraSource(
            _index(kind, arg),
            width,
            height,
            fps,
            lores_size=model_image_size((width, height), model_input),
            upside_down=upside_down,
        )
    if kind == "webcam":
        from device.camera.webcam import WebcamSource

        return WebcamSource(_index(kind, arg), width, height, fps or 30.0)
    if kind == "synthetic":
        return _synthetic(cfg, arg)
    from device.camera.video import VideoFileSource

    # warn_damage: a station reading a file logs each damaged stretch as a warning line (nobody
    # reads a summary at the end of a looping or live-fed file)
    return VideoFileSource(
        Path(arg).expanduser(), loop=bool(cam.loop_video) if cam else False, warn_damage=True
    )
