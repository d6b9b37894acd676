"""Where the validation data live and how to load them.

- the development set (``shared/validation/dev``): ``keypoints/<trial>.clean.csv.gz`` and
  ``<trial>.realistic_60fps.csv.gz`` with ``truth/<trial>.truth.json``; the realistic 30 fps
  variant is made with the set's own ``make_realistic.py`` (seed as the README defines it) into a
  cache directory outside the repository;
- the labelled real clip (``shared/samples/treadmill_side_30fps_labelled.mp4`` + truth) and the
  other sample clips: MoveNet keypoints computed once, cached as keypoint CSVs keyed by the
  video's sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.keypoints import Timeline
from device.keypoints_csv import read_csv, write_csv

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
            return read_csv(io.TextIOWrapper(fh, encoding="utf-8", newline=""))
    return read_csv(path)


def condition_path(trial: Trial, condition: str, cache_dir: Path = CACHE_DIR) -> Path:
    if condition == "realistic_30fps":
        return cache_dir / "realistic_30fps" / f"{trial.name}.realistic_30fps.csv.gz"
    return trial.keypoints_dir / f"{trial.name}.{condition}.csv.gz"


def ensure_realistic_30(trial: Trial, cache_dir: Path = CACHE_DIR) -> Path:
    """The 30 fps variant of ``trial``, made with the data set's own script when not cached
    (seed = crc32('<trial>:realistic_30fps'), the README's convention for the 60 fps files)."""
    out = condition_path(trial, "realistic_30fps", cache_dir)
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    seed = zlib.crc32(f"{trial.name}:realistic_30fps".encode()) & 0x7FFFFFFF
    tmp = out.with_name(out.name + ".part.gz")
    subprocess.run(
        [
            sys.executable,
            str(trial.keypoints_dir.parent / "make_realistic.py"),
            str(condition_path(trial, "clean")),
            "--fps",
            "30",
            "--seed",
            str(seed),
            "--truth",
            str(trial.truth_path),
            "-o",
            str(tmp),
        ],
        check=True,
        capture_output=True,
    )
    tmp.replace(out)
    return out


def file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def video_keypoints(video: Path, cache_dir: Path = CACHE_DIR, model: str | None = None) -> Timeline:
    """MoveNet keypoints of ``video``: from the cache (keyed by the file's sha) or computed now
    with the station's own pose path and cached."""
    cached = cache_dir / "keypoints" / f"{file_sha(video)}.csv"
    if cached.is_file():
        return _with_size(read_csv(cached), video)
    from device.analyze import _load_config, pose_timeline

    tl, _facts = pose_timeline(video, _load_config(None), model, None, False)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(cached.name + ".part")
    write_csv(tl, tmp)
    tmp.replace(cached)
    return _with_size(read_csv(cached), video)


def _with_size(tl: Timeline, video: Path) -> Timeline:
    """The CSV does not carry the frame size; the analysis uses it (feet at the frame edge)."""
    from device.camera.video import VideoFileSource

    src = VideoFileSource(video)
    src.open()
    try:
        tl.width, tl.height = src.size
    finally:
        src.close()
    return tl
