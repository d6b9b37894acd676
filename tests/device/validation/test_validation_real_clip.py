"""The labelled-clip figures of ``gait-station validate``: signed timing per side and the
labels' physical contact time (a label marks the first / last frame on the belt)."""

from __future__ import annotations

import pytest

from device.validation.cli import label_contact_ms, signed_by_side

FPS = 30.0


def _truth() -> dict:
    ev = []
    for k, (side, ic, to) in enumerate([("left", 10, 15), ("right", 21, 27), ("left", 32, 37)]):
        ev.append({"side": side, "kind": "initial_contact", "frame": ic, "t": ic / FPS})
        ev.append({"side": side, "kind": "toe_off", "frame": to, "t": to / FPS})
        assert k < 3
    return {"events": ev}


def test_label_contact_time_counts_both_end_frames() -> None:
    c = label_contact_ms(_truth(), FPS)
    assert c["left"] == pytest.approx(1000 * 6 / FPS)  # 10→15 and 32→37: 6 frames each
    assert c["right"] == pytest.approx(1000 * 7 / FPS)


def test_signed_bias_per_side_in_frames() -> None:
    truth = _truth()
    # the engine half a frame before every IC label, one frame after every left TO, right TO unseen
    ev = [
        {
            "kind": e["kind"],
            "side": e["side"],
            "t": e["t"] + (-0.5 if e["kind"] == "initial_contact" else 1.0) / FPS,
        }
        for e in truth["events"]
        if not (e["kind"] == "toe_off" and e["side"] == "right")
    ]
    b = signed_by_side({"events": ev}, truth, 1 / FPS)
    assert b["left"]["initial_contact"][0] == pytest.approx(-0.5)
    assert b["left"]["initial_contact"][1] == 2 and b["right"]["initial_contact"][1] == 1
    assert b["left"]["toe_off"][0] == pytest.approx(1.0)
    assert b["right"]["toe_off"] == (None, 0)
