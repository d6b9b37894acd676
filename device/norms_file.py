"""Reading a normal-ranges file (``norms.toml``) into :class:`device.gait.norms.Norms`.

The gait core reads no file: whoever calls :func:`device.gait.analysis.analyze` (the capture's
finisher, ``gait-station analyze``, validation, the bench) reads the clinic's norms here and
passes them in.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import EllipsisType

from device.errors import ConfigError
from device.gait.norms import Norms, norms_from_dict

#: the packaged normal ranges, used when the clinic names no file of its own
DEFAULT_PATH = Path(__file__).parent / "gait" / "norms.toml"


def load_norms(path: str | Path | None = None) -> Norms:
    """Read and validate a norms TOML file (default: the packaged ``norms.toml``).

    Raises :class:`device.errors.ConfigError` with a one-line message saying what is wrong."""
    from device.gait.metric_ids import ALL_METRICS

    p = Path(path) if path is not None else DEFAULT_PATH
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"norms file not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"norms file {p} is not valid TOML: {exc}") from None
    return norms_from_dict(data, str(p), known=set(ALL_METRICS))


def norms_for(given: Norms | None | EllipsisType, norms_file: str) -> Norms:
    """The norms a station analyses with: ``given`` ones as they are; ``...`` = the clinic's
    ``norms_file`` (the packaged file when it is empty); None = the packaged file."""
    if isinstance(given, Norms):
        return given
    return load_norms((norms_file or None) if given is ... else None)
