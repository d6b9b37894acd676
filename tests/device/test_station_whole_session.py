"""One whole session through the real code paths, as a clinician runs it: the runner is entered,
the start button (gpiozero MockFactory) is pressed, the rendered synthetic runner goes through the
real MoveNet, the timer ends the capture, the gait engine's analysis is stored, the receipt is
printed (python-escpos Dummy: the bytes are checked) and the print button sends the full report
to the cups-pdf queue of a private cupsd (the PDF that comes out is read back)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device.camera.synthetic import SyntheticSource
from device.config import Config
from device.printing import ReceiptPrinter
from device.station import Station
from device.synthetic.runner import RunnerParams
from tests.cups_server import CupsServer, cups_server  # noqa: F401 - fixture
from tests.support.eventually import eventually

pytestmark = pytest.mark.slow  # a whole session: MoveNet, CUPS


def _press(factory: MockFactory, pin: int) -> None:
    p = factory.pin(pin)
    p.drive_low()
    time.sleep(0.12)
    p.drive_high()


def test_whole_session_buttons_movenet_timer_receipt_and_cups_report(
    tmp_path: Path,
    model_path: Path,
    cups_server: CupsServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from device.pose import MoveNetEstimator

    monkeypatch.setenv("CUPS_SERVER", cups_server.server)
    receipts: list[bytes] = []
    real_print = ReceiptPrinter.print_summary

    def spy(self, lines):
        out = real_print(self, lines)
        receipts.append(out)
        return out

    monkeypatch.setattr(ReceiptPrinter, "print_summary", spy)

    cfg = Config()
    cfg.storage.data_dir = str(tmp_path / "data")
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 6.0  # the timer ends the capture
    cfg.capture.countdown_s = 0
    cfg.printing.receipt_printer = "dummy"
    cfg.printing.cups_queue = cups_server.queue
    cfg.gpio.print_pin = 5
    params = RunnerParams(cadence_spm=176, speed_kmh=12, height_cm=178, width=640, height=360)
    st = Station(
        cfg,
        "synthetic",
        MockFactory(),
        estimator=MoveNetEstimator(model_path, 2, quiet=True),
        source_factory=lambda: SyntheticSource(params, realtime=False),
    )
    st.start()
    try:
        rid = st.store.create_runner("Maya Okafor", 178)
        st.prepare(runner_id=rid, session={"speed_kmh": 12, "shoes": "Trail 3", "view": "side"})
        assert st.status()["state"] == "ready" and st.controls.state == "ready"
        _press(st.pin_factory, cfg.gpio.start_pin)
        assert eventually(lambda: st.status()["state"] == "capturing", 10)
        assert st.wait_for_state(("done", "failed"), 90) == "done"

        sid = st.controller.last_session_id
        s = st.store.get_session(sid)
        assert s["status"] == "done" and s["runner"]["name"] == "Maya Okafor" and s["shoes"] == "Trail 3"
        assert s["frames_inferred"] == len(st.store.get_keypoints(sid)) >= 175  # 6 s at 30 fps, none lost
        cadence = s["analysis"]["cadence_spm"]
        assert cadence == pytest.approx(176, abs=4)  # MoveNet on the rendered runner vs its exact cadence
        assert s["analysis"]["view"]["kind"] == "side"

        # the summary receipt was printed when the run ended
        assert eventually(lambda: st.store.get_session(sid)["printed_summary_at"], 10)
        receipt = receipts[-1]
        assert receipt.startswith(b"\x1b@")  # ESC @: printer initialised
        assert b"\x1dV" in receipt  # GS V: paper cut
        assert b"Maya Okafor" in receipt and f"{cadence:.0f} spm".encode() in receipt

        # the print button sends the full report to the CUPS queue
        jobs: list[str] = []
        real_report = st.print_report
        monkeypatch.setattr(
            st, "print_report", lambda session_id: jobs.append(real_report(session_id)) or jobs[-1]
        )
        _press(st.pin_factory, cfg.gpio.print_pin)
        assert eventually(lambda: jobs, 30), "the print button printed no report"
        pdf = cups_server.wait_for_pdf(jobs[-1])
        assert st.store.get_session(sid)["printed_report_at"]
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Maya Okafor" in text and f"{cadence:.0f} spm" in text
    finally:
        st.close()
