"""Where the pose model file is and whether it is the right one.

Search order (:func:`resolve_model_path`): ``[pose] model_path`` in the config, then the
``GAIT_STATION_MODEL`` environment variable, then the file ``setup.sh`` downloads into
``<data_dir>/models/``, then ``../shared/models/`` beside the repository (dev machines and CI
without internet).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from device.errors import UserError

if TYPE_CHECKING:
    from device.config import Config

DEFAULT_MODEL_FILE = "movenet_singlepose_lightning_int8_4.tflite"
#: sha256 of Google's MoveNet SinglePose Lightning int8 v4 (shared/models/README.md).
DEFAULT_MODEL_SHA256 = "cd7cc22fa946e5d146a7b98d496853e1923e22828d3972d579973f27f91bb105"

_REPO = Path(__file__).resolve().parents[2]


class ModelError(UserError):
    """The pose model file is missing, corrupt or not a single-pose MoveNet model."""


def model_candidates(cfg: Config | None) -> list[tuple[str, Path]]:
    """(where, path) pairs in search order; the first two only when configured."""
    out: list[tuple[str, Path]] = []
    if cfg is not None and cfg.pose.model_path:
        out.append(("[pose] model_path", Path(cfg.pose.model_path).expanduser()))
    env = os.environ.get("GAIT_STATION_MODEL")
    if env:
        out.append(("$GAIT_STATION_MODEL", Path(env).expanduser()))
    if cfg is not None:
        out.append(("setup download", cfg.data_dir / "models" / DEFAULT_MODEL_FILE))
    out.append(("shared models", _REPO.parent / "shared" / "models" / DEFAULT_MODEL_FILE))
    return out


def resolve_model_path(cfg: Config | None) -> Path:
    """The model file to use. An explicitly configured path that does not exist is an error
    (never silently replaced by another model)."""
    candidates = model_candidates(cfg)
    for where, path in candidates:
        explicit = where.startswith(("[pose]", "$"))
        if path.is_file():
            return path
        if explicit:
            raise ModelError(f"pose model not found: {path} (from {where})")
    looked = ", ".join(str(p) for _, p in candidates)
    raise ModelError(
        f"pose model {DEFAULT_MODEL_FILE} not found (looked in {looked}); run setup.sh to download it "
        "or set [pose] model_path"
    )


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_model(path: str | Path, sha256: str = DEFAULT_MODEL_SHA256) -> str:
    """Check the file's sha256; return it. Raises :class:`ModelError` when missing or different
    (a truncated download, a wrong file)."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"pose model not found: {p}")
    digest = sha256_file(p)
    if digest.lower() != sha256.lower():
        raise ModelError(
            f"pose model {p} is not the expected file (sha256 {digest[:12]}…, expected {sha256[:12]}…)"
        )
    return digest
