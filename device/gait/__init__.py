"""The pure gait analysis core: keypoint timeline in, Analysis out; no I/O.

Public: :func:`analyze` (``device.gait.analysis``), :class:`Norms` (``device.gait.norms``; read
by :func:`device.norms_file.load_norms`), :class:`LiveCadence` (``device.gait.live``), the result types in
``device.gait.types``. Attributes load lazily so that importing the package (the CLI does at
start-up) does not pull in scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the type checker sees what the lazy attributes are
    from device.gait.analysis import analyze
    from device.gait.live import LiveCadence
    from device.gait.norms import Norms

_LAZY = {
    "analyze": ("device.gait.analysis", "analyze"),
    "Norms": ("device.gait.norms", "Norms"),
    "LiveCadence": ("device.gait.live", "LiveCadence"),
}

__all__ = ["LiveCadence", "Norms", "analyze"]  # the keys of _LAZY


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        # getattr: PEP 562 lazy loading (the module is named by data in _LAZY), not a probe
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'device.gait' has no attribute {name!r}")
