"""Time limits sized for a native machine, stretched where everything runs slower.

Under qemu-user emulation (tools/pi-check.sh) the same code runs 5-20x slower, so a limit that
says "this hangs" natively would only say "this is emulated". ``GAIT_TEST_TIME_SCALE`` (default 1)
multiplies such limits: waits, subprocess timeouts and time windows a count is taken in. It never
loosens what is asserted about the result itself.
"""

from __future__ import annotations

import os


def time_scale() -> float:
    raw = os.environ.get("GAIT_TEST_TIME_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"GAIT_TEST_TIME_SCALE={raw!r} is not a number") from None
    if scale < 1:
        raise ValueError(f"GAIT_TEST_TIME_SCALE={raw!r}: must be 1 or more (it only stretches limits)")
    return scale


def scaled(seconds: float) -> float:
    """A time limit sized for native speed, stretched by GAIT_TEST_TIME_SCALE."""
    return seconds * time_scale()
