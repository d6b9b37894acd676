"""Where the validation data live and how to load them.

- the development set (``shared/validation/dev``): ``keypoints/<trial>.clean.csv.gz`` and
  ``<trial>.realistic_60fps.csv.gz`` with ``truth/<trial>.truth.json``; the realistic 30 fps
  variant is made with the set's own ``make_realistic.py`` (seed as the README defines it) into a
  cache directory outside the repository;
- the labelled real clip (``shared/samples/treadmill_side_30fps_labelled.mp4`` + truth) and the
  other sample clips: MoveNet keypoints computed once and cached, keyed by the video's sha256
  and by everything that makes them (:func:`pose_path_key`).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import importlib.metadata
import io
import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.camera.base import Frame
from device.camera.video import VideoFileSource
from device.keypoints import Timeline
from device.keypoints_csv import read_csv

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("GAIT_STATION_SHARED", REPO.parent / "shared"))
DEV_DIR = SHARED / "validation" / "dev"
SAMPLES_DIR = SHARED / "samples"
LABELLED_CLIP = "treadmill_side_30fps_labelled.mp4"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gait-station" / "validation"
CONDITIONS = ("clean", "realistic_60fps", "realistic_30fps")


@dataclass(frozen=True)
class Trial:
    name: str
    runner: str  # e.g. "rbds_012", "hamner_s02"
    truth_path: Path
    keypoints_dir: Path

    def truth(self) -> dict[str, Any]:
        return json.loads(self.truth_path.read_text(encoding="utf-8"))


def runner_of(trial: str) -> str:
    return trial.rsplit("_", 1)[0]


def dev_trials(dev_dir: Path = DEV_DIR) -> list[Trial]:
    out = []
    for tp in sorted((dev_dir / "truth").glob("*.truth.json")):
        name = tp.name[: -len(".truth.json")]
        out.append(Trial(name, runner_of(name), tp, dev_dir / "keypoints"))
    return out


def read_any_csv(path: Path) -> Timeline:
    """A keypoint CSV, gzipped or not."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return read_csv(io.TextIOWrapper(fh, encoding="utf-8", newline=""), path.name)
    return read_csv(path)


#: Rates the set's 60 fps recipe is remade at (its ``make_realistic.py``): 30 fps for the fitted
#: timing's tables, 25 and 20 fps (the station's lowest accepted rate, norms.toml ``min_fps``) for
#: how the physics timing's error grows as frames get sparse.
#: The ``_redraw`` variants are the same recipe at 60 / 30 fps with another seed: noise none of
#: the fitted models has seen (a runner kept aside gets its own draw too).
MADE_RATES = {
    "realistic_30fps": 30,
    "realistic_25fps": 25,
    "realistic_20fps": 20,
    "realistic_60fps_redraw": 60,
    "realistic_30fps_redraw": 30,
}


def condition_path(trial: Trial, condition: str, cache_dir: Path = CACHE_DIR) -> Path:
    if condition in MADE_RATES:
        return cache_dir / condition / f"{trial.name}.{condition}.csv.gz"
    return trial.keypoints_dir / f"{trial.name}.{condition}.csv.gz"


#: make_realistic.py's main() at any rate: its command line offers 30 / 60 / native only, its
#: ``corrupt`` takes any rate (run from the data set's own file, so the recipe stays the set's).
_REMAKE = """
import json, runpy, sys
import numpy as np
m = runpy.run_path(sys.argv[1])
clean, fps, seed, truth, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
t, kp = m["read_csv"](clean)
ics = [e["t"] for e in json.load(open(truth))["events"] if e["kind"] == "initial_contact"]
tt, P, log = m["corrupt"](t, kp, fps, np.random.default_rng(seed), ics)
m["write_csv"](out, tt, P)
"""


def ensure_realistic(trial: Trial, condition: str, cache_dir: Path = CACHE_DIR) -> Path:
    """The ``condition`` (a :data:`MADE_RATES` key) variant of ``trial``, made with the data set's
    own script when not cached (seed = crc32('<trial>:<condition>'), the README's convention for
    the 60 fps files)."""
    out = condition_path(trial, condition, cache_dir)
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    seed = zlib.crc32(f"{trial.name}:{condition}".encode()) & 0x7FFFFFFF
    tmp = out.with_name(out.name + ".part.gz")
    script = trial.keypoints_dir.parent / "make_realistic.py"
    clean = condition_path(trial, "clean")
    fps = MADE_RATES[condition]
    if fps == 30:  # the script's own command line, as the cached 30 fps files were made
        cmd = [sys.executable, str(script), str(clean), "--fps", "30", "--seed", str(seed)]
        cmd += ["--truth", str(trial.truth_path), "-o", str(tmp)]
    else:
        cmd = [sys.executable, "-c", _REMAKE, str(script), str(clean), str(fps), str(seed)]
        cmd += [str(trial.truth_path), str(tmp)]
    subprocess.run(cmd, check=True, capture_output=True)
    tmp.replace(out)
    return out


def file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


#: The modules between a video file and its keypoints: a change to any of them (the decode, the
#: model's picture, the crop) changes the keypoints, so it must not be served from the cache.
POSE_PATH_MODULES = (
    "device.analyze",
    "device.camera.base",
    "device.camera.video",
    "device.pose.base",
    "device.pose.movenet",
    "device.pose.pipeline",
    "device.pose.runtime",
)
#: Libraries on that path: a new FFmpeg (PyAV), OpenCV resize or LiteRT kernel moves keypoints too.
POSE_PATH_DISTRIBUTIONS = (
    "av",
    "opencv-python-headless",
    "opencv-python",
    "ai-edge-litert",
    "tflite-runtime",
)


def pose_path_key(model: Path) -> str:
    """A digest of what turns a video into keypoints: the model file, the source of the pose
    path's modules and the libraries' versions. The cache was once keyed by the video alone,
    and tests and validation read keypoints of a pose path replaced hours earlier."""
    h = hashlib.sha256(file_sha(model).encode())
    for name in POSE_PATH_MODULES:
        src = importlib.import_module(name).__file__
        assert src is not None  # plain .py modules of this package
        h.update(Path(src).read_bytes())
    for dist in POSE_PATH_DISTRIBUTIONS:
        try:
            h.update(f"{dist}=={importlib.metadata.version(dist)}".encode())
        except importlib.metadata.PackageNotFoundError:
            continue
    return h.hexdigest()[:16]


class DitheredVideo(VideoFileSource):
    """A video's frames with every pixel level moved by −1, 0 or +1 at random (seeded). That is
    the size of the difference between two machines' decoders (FFmpeg's YUV→BGR on arm64 and
    on x86-64 differ by 1–2 levels in most pixels), so scoring the clip over several draws
    shows how far its figures rest on MoveNet's response to invisible noise."""

    def __init__(self, path: Path, seed: int) -> None:
        super().__init__(path)
        self._rng = np.random.default_rng(seed)

    def read(self) -> Frame | None:
        frame = super().read()
        if frame is not None:
            noise = self._rng.integers(-1, 2, frame.image.shape, dtype=np.int16)
            frame.image = np.clip(frame.image + noise, 0, 255).astype(np.uint8)
        return frame


def _darken(image: np.ndarray) -> np.ndarray:
    return _DARK_TABLE[image]


def _noise(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    noisy = image + rng.normal(0.0, sigma, image.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _blur(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(image, (0, 0), 2.5)


#: gamma 1.5, gain 0.7: the labelled clip's crop at a mean luma of ~48 (the real overground
#: sample's crops are 50–66)
_DARK_TABLE = np.clip((np.arange(256) / 255.0) ** 1.5 * 255.0 * 0.7, 0, 255).astype(np.uint8)
#: How a clinic's video may be worse than the labelled clip, one transform of a decoded frame
#: each (docs/validation.md, engine 2.9): seeded, made while reading, nothing stored.
DEGRADATIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "dark": lambda im, rng: _darken(im),
    "dark and noisy": lambda im, rng: _noise(_darken(im), rng, 6.0),
    "noisy": lambda im, rng: _noise(im, rng, 8.0),
    "blurred": lambda im, rng: _blur(im),
    "washed out": lambda im, rng: (im * 0.45 + 110.0).astype(np.uint8),
    # not worse but the other way round: the runner faces image-right, so the leg nearest the
    # camera is the runner's right (the labels' sides swap: :data:`MIRRORED`)
    "mirrored": lambda im, rng: np.ascontiguousarray(im[:, ::-1]),
    # engine 2.15: a camera's other pictures, and one framed too tight
    "half resolution": lambda im, rng: _scaled(im, 0.5),
    "JPEG quality 30": lambda im, rng: _jpeg(im, 30),
    # the middle 80 % each way: a camera too close, the feet in stance just below the picture
    "feet below the picture": lambda im, rng: _middle(im, 0.8),
    "15 fps": lambda im, rng: im,  # every 2nd frame (FRAMES_KEPT)
    # a camera that drops a frame now and then: 5 of every 6 kept, 33 and 67 ms apart (25 fps)
    "every 6th frame dropped": lambda im, rng: im,
    # the top 55 % cut away: the picture starts just below the runner's nose
    "upper body above the picture": lambda im, rng: np.ascontiguousarray(im[round(0.55 * im.shape[0]) :]),
}
#: the copy whose labels' sides are swapped (the mirror turns the near left leg into a right one)
MIRRORED = "mirrored"
#: copies that keep only some of the clip's frames: which (by their index in the file)
FRAMES_KEPT: dict[str, Callable[[int], bool]] = {
    "15 fps": lambda i: i % 2 == 0,
    "every 6th frame dropped": lambda i: i % 6 != 5,
}


def _scaled(image: np.ndarray, f: float) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise ValueError("a frame did not survive JPEG encoding")
    return np.asarray(decoded)


def _middle(image: np.ndarray, f: float) -> np.ndarray:
    h, w = image.shape[:2]
    ch, cw = round(h * f), round(w * f)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(image[y0 : y0 + ch, x0 : x0 + cw])


def degraded_size(size: tuple[int, int], degradation: str) -> tuple[int, int]:
    """(width, height) of a frame of ``size`` made worse the ``degradation`` way."""
    w, h = size
    out = DEGRADATIONS[degradation](np.zeros((h, w, 3), np.uint8), np.random.default_rng(0))
    return out.shape[1], out.shape[0]


class DegradedVideo(VideoFileSource):
    """A video's frames made worse in one of the :data:`DEGRADATIONS` ways (seeded)."""

    def __init__(self, path: Path, degradation: str, seed: int = 7) -> None:
        super().__init__(path)
        self._transform = DEGRADATIONS[degradation]
        self._rng = np.random.default_rng(seed)
        self._kept = FRAMES_KEPT.get(degradation, lambda i: True)
        self._read = 0

    def read(self) -> Frame | None:
        frame = super().read()
        while frame is not None and not self._kept(self._read):
            self._read += 1
            frame = super().read()
        self._read += 1
        if frame is not None:
            frame.image = self._transform(frame.image, self._rng)
        return frame


def video_keypoints(
    video: Path,
    cache_dir: Path = CACHE_DIR,
    model: str | None = None,
    draw: int | None = None,
    degradation: str | None = None,
) -> Timeline:
    """MoveNet keypoints of ``video`` exactly as ``gait-station analyze`` computes them: from the
    cache (keyed by the video and :func:`pose_path_key`) or computed now with the station's own
    pose path and cached. Kept as float arrays (``.npz``), not CSV: the CSV's rounding to 0.01 px
    is a different input, and the figures must be those of the product's own keypoints.
    ``draw``: the frames of :class:`DitheredVideo` with that seed instead of the plain decode;
    ``degradation``: those of :class:`DegradedVideo` (one of :data:`DEGRADATIONS`)."""
    from device.analyze import _load_config, pose_timeline
    from device.pose.model import resolve_model_path

    cfg = _load_config(None)
    model_path = Path(model).expanduser() if model else resolve_model_path(cfg)
    suffix = "" if draw is None else f"-draw{draw}"
    if degradation is not None:
        suffix += "-" + degradation.replace(" ", "_")
    cached = cache_dir / "keypoints" / f"{file_sha(video)}-{pose_path_key(model_path)}{suffix}.npz"
    if not cached.is_file():
        source: VideoFileSource | None = None
        if degradation is not None:
            source = DegradedVideo(video, degradation)
        elif draw is not None:
            source = DitheredVideo(video, draw)
        tl, _facts = pose_timeline(video, cfg, str(model_path), None, False, source)
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(cached.name + ".part.npz")
        np.savez(tmp, t=tl.t, xy=tl.xy, score=tl.score, frame=tl.frame, meta=json.dumps(tl.meta, default=str))
        tmp.replace(cached)
    with np.load(cached) as z:
        tl = Timeline(
            t=z["t"], xy=z["xy"], score=z["score"], frame=z["frame"], meta=json.loads(str(z["meta"]))
        )
    return _with_size(tl, video, degradation)


def _with_size(tl: Timeline, video: Path, degradation: str | None = None) -> Timeline:
    """The CSV does not carry the frame size; the analysis uses it (feet at the frame edge)."""

    src = VideoFileSource(video)
    src.open()
    try:
        size = src.size
    finally:
        src.close()
    tl.width, tl.height = size if degradation is None else degraded_size(size, degradation)
    return tl
