"""The emulation time scale stretches limits and refuses values that would shrink them."""

from __future__ import annotations

import pytest

from tests.support.timing import scaled, time_scale


def test_native_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GAIT_TEST_TIME_SCALE", raising=False)
    assert time_scale() == 1.0
    assert scaled(120) == 120


def test_stretches_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAIT_TEST_TIME_SCALE", "8")
    assert scaled(5) == 40


@pytest.mark.parametrize("raw", ["0.5", "fast", "-2"])
def test_refuses_what_would_shrink_or_is_not_a_number(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("GAIT_TEST_TIME_SCALE", raw)
    with pytest.raises(ValueError, match="GAIT_TEST_TIME_SCALE"):
        scaled(1)
