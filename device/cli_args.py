"""Command-line values checked before any work starts: a number out of range is refused when
the command starts, with one line naming the option, not after minutes of analysis on a Pi."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def number(what: str, lo: float, hi: float, *, integer: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number (whole when ``integer``) from ``lo`` to ``hi``."""

    def parse(text: str) -> float:
        try:
            v: float = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole number' if integer else 'a number'}"
            ) from None
        if not math.isfinite(v) or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be between {lo:g} and {hi:g}, got {text}")
        return v

    return parse
