"""One truth: for one session the session page, the API JSON, the receipt bytes (python-escpos
Dummy) and the PDF (pdftotext) carry the same flags (in the one vocabulary) and the same step and
stride counts; every time shown counts from the start of the session, not the station clock."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from device.gait.evidence import FLAGGED, WORDS
from device.report import catalog
from tests.web.conftest import login
from tests.web.evidence_sessions import serve

CASES = {
    # the near knee out of range (one side) and a low cadence
    "sided": ("side", {"right": {"knee_flexion_stance_peak_deg": 58.0}, "cadence_spm": 152.0, "seed": 7}),
    "wrong_view": ("rear", {"duration_s": 30.0}),
}
FLAG_WORDS = {WORDS[s] for s in FLAGGED}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    s = serve(tmp_path_factory.mktemp("truth") / "data", CASES)
    sid = s.sessions["sided"]
    kp = np.ones((17, 3), np.float32)
    s.store.add_evidence(sid, "right", "initial_contact", 296.0 + 12.34, 370, b"\xff\xd8jpeg", kp)
    yield s
    s.close()


@pytest.fixture
def client(served):
    c = served.app.test_client()
    assert login(c).status_code == 302
    return c


def _api(client, sid: int) -> tuple[dict[str, str], tuple[int, int]]:
    a = client.get(f"/api/sessions/{sid}").json["analysis"]
    q = a["quality"]
    flags = {m: WORDS[e["status"]] for m, e in q["evidence"].items() if e["status"] in FLAGGED}
    assert {m for m, x in a["metrics"].items() if x["flag"]} == set(flags)  # metric.flag agrees
    return flags, (q["steps_used"], q["strides_used"])


def _page(client, sid: int) -> tuple[dict[str, str], tuple[int, int], str]:
    html = client.get(f"/sessions/{sid}").get_data(as_text=True)
    flags = {}
    for mid, row in re.findall(r'<tr id="m-(\w+)"(.*?)</tr>', html, re.S):
        word = re.search(
            r'<span class="flag [^"]*" data-status="[^"]*">([^<(]*?)(?: \((?:left|right)\))?</span>', row
        )
        if word and word.group(1) in FLAG_WORDS:
            flags[mid] = word.group(1)
    steps = int(re.search(r"<dt>Steps used</dt><dd>(\d+)</dd>", html).group(1))
    strides = int(re.search(r"<dt>Strides used \(2 steps each\)</dt><dd>(\d+)</dd>", html).group(1))
    return flags, (steps, strides), html


def _labelled(lines: list[str]) -> dict[str, str]:
    """metric id -> flag word, from lines that start with a metric's label and carry a flag word
    (or, on the receipt, from its sides' line under it: the flag of one side while the mean is in
    range is printed on that side)."""
    labels = sorted(((inf.label, mid) for mid, inf in catalog.METRICS.items()), key=lambda x: -len(x[0]))
    out = {}
    last = None
    for ln in lines:
        text = ln.strip().replace("!=", "≠")
        word = next((w for w in FLAG_WORDS if text.endswith(w) or f" {w} " in f" {text} "), None)
        mid = next((m for lab, m in labels if text.startswith(lab)), None)
        if mid is not None:
            last = mid
        elif re.match(r"[LR] ", text) and last is not None:
            mid = last  # the sides' line of the metric above
        if word is not None and mid is not None:
            out[mid] = word
    return out


def _receipt(served, sid: int) -> tuple[dict[str, str], tuple[int, int]]:
    from device.printing.receipt import ReceiptPrinter

    lines = served.station.format_summary(served.store.get_session(sid))
    raw = ReceiptPrinter("dummy").print_summary(lines)
    text = raw.decode("cp437", "replace")
    m = re.search(r"Steps:\s+(\d+) used \((\d+) strides\)", text)
    return _labelled(text.splitlines()), (int(m.group(1)), int(m.group(2)))


def _pdf(served, sid: int, tmp_path: Path) -> tuple[dict[str, str], tuple[int, int], str]:
    src = tmp_path / "report.pdf"
    src.write_bytes(served.station.report_pdf(sid))
    text = subprocess.run(
        ["pdftotext", "-layout", str(src), "-"], capture_output=True, check=True
    ).stdout.decode()
    steps = int(re.search(r"Steps used: (\d+)", text).group(1))
    strides = int(re.search(r"Strides used \(2 steps each\): (\d+)", text).group(1))
    table = text[text.index("Measurements") :]
    return _labelled(table.splitlines()), (steps, strides), text


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_page_api_receipt_and_pdf_say_the_same(served, client, name, tmp_path):
    sid = served.sessions[name]
    api_flags, api_counts = _api(client, sid)
    page_flags, page_counts, _ = _page(client, sid)
    receipt_flags, receipt_counts = _receipt(served, sid)
    pdf_flags, pdf_counts, _ = _pdf(served, sid, tmp_path)
    assert page_flags == api_flags
    assert pdf_flags == api_flags
    assert receipt_flags == api_flags
    assert page_counts == api_counts == receipt_counts == pdf_counts
    assert api_counts[1] == api_counts[0] // 2  # a stride is two steps
    if name == "sided":
        assert api_flags["knee_flexion_stance_peak_deg"] == "above normal"
        assert api_flags["cadence_spm"] == "below normal"
    else:
        assert api_flags == {}


@pytest.mark.slow
def test_times_count_from_the_session_start(served, client, tmp_path):
    """The synthetic capture starts at 296 s on the source clock: captions say 12.34 s, charts
    run from 0 to the capture's length."""
    sid = served.sessions["sided"]
    _, _, html = _page(client, sid)
    assert "12.34 s" in html and "308.34" not in html
    chart = re.search(r'data-chart="cadence">(.*?)</div>', html, re.S).group(1)
    assert "time into the run (s)" in chart
    detail = client.get(f"/api/sessions/{sid}").json
    assert detail["analysis"]["input"]["t0_s"] == pytest.approx(296.0)
    frame = detail["evidence_frames"][0]
    assert frame["t"] == pytest.approx(12.34) and frame["t_source"] == pytest.approx(308.34)
    _, _, pdf = _pdf(served, sid, tmp_path)
    assert "time into the run (s)" in pdf
