"""Heavy exports (report and comparison PDFs, keypoint CSV, video keypoints, report prints) run
one at a time: while one is in progress, more get 503 "busy, try again" with Retry-After
instead of another render on a request thread the capture needs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import pin_hash
from tests.web.fakes import FakeStation
from tests.web.sample_data import make_analysis
from web.app import create_app
from web.auth import save_pin_hash
from web.errors import BusyError
from web.export_gate import EXTENSION, ExportGate

TOKEN = "t0ken-for-tests-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class SlowFirstRender:
    """The station's report renderer at the seam: the first render holds until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, session_id: int) -> bytes:
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            assert self.release.wait(10), "the test never released the first render"
        return b"%PDF-1.4 fake report"


def test_the_gate_runs_one_queues_one_and_refuses_the_rest() -> None:
    gate = ExportGate(running=1, waiting=1, wait_s=10)
    first_in, first_out, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with gate.slot():
            first_in.set()
            first_out.wait(10)

    def second() -> None:
        with gate.slot():
            second_in.set()

    t1 = threading.Thread(target=first)
    t1.start()
    assert first_in.wait(5)
    t2 = threading.Thread(target=second)
    t2.start()
    # one running, one waiting: a third is refused at once, holding no thread
    with pytest.raises(BusyError) as busy, gate.slot():
        pass
    assert busy.value.retry_after_s == 5 and "busy" in str(busy.value)
    assert not second_in.is_set()  # it waits its turn...
    first_out.set()
    t1.join(5)
    t2.join(5)
    assert second_in.is_set()  # ...and gets it
    with gate.slot():  # free again
        pass


def test_a_waiting_export_gives_up_after_its_wait() -> None:
    gate = ExportGate(running=1, waiting=1, wait_s=0.01)
    with gate.slot(), pytest.raises(BusyError), gate.slot():
        pass


@pytest.fixture
def served(station: FakeStation, cfg: Any, store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    save_pin_hash(cfg.data_dir, pin_hash())
    cfg.web.api_token = TOKEN
    app = create_app(station, cfg, testing=True)
    app.extensions[EXTENSION] = ExportGate(wait_s=0.05)  # a queued export gives up quickly here
    render = SlowFirstRender()
    monkeypatch.setattr(station, "report_pdf", render)
    rid = store.create_runner("Ann Lee", 168)
    sids = [store.create_session(rid, 12.0, 0.0, "", "", "side", "t", {}) for _ in range(2)]
    for sid in sids:
        store.save_analysis(sid, make_analysis())
    yield app, render, sids
    render.release.set()


def test_exports_beyond_the_one_in_progress_are_told_to_try_again(served: Any) -> None:
    app, render, (sid, other) = served
    first: dict[str, Any] = {}

    def slow_request() -> None:
        first["resp"] = app.test_client().get(f"/api/sessions/{sid}/report.pdf", headers=AUTH)

    t = threading.Thread(target=slow_request)
    t.start()
    try:
        assert render.started.wait(10)
        c = app.test_client()
        for url in (
            f"/api/sessions/{sid}/report.pdf",
            f"/api/sessions/{other}/report.pdf",
            f"/api/sessions/{sid}/keypoints.csv",
        ):
            resp = c.get(url, headers=AUTH)
            assert resp.status_code == 503, url
            assert resp.headers["Retry-After"] == "5", url
            assert resp.json["error"] == "the station is busy with another export: try again in 5 s"
        resp = c.post(f"/api/sessions/{sid}/print", json={"what": "report"}, headers=AUTH)
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
        # the tablet's print button: the page that says it was not printed, with the PDF to open
        page = c.post(f"/sessions/{sid}/print", data={"what": "report"}, headers=AUTH)
        assert page.status_code == 503
        assert 'id="print-failed"' in page.get_data(as_text=True)
        assert "busy with another export" in page.get_data(as_text=True)
        for url in (f"/sessions/{sid}/video.json", f"/compare/report.pdf?a={sid}&b={other}"):
            resp = c.get(url, headers=AUTH)
            assert resp.status_code == 503 and resp.headers["Retry-After"] == "5", url
            assert "busy with another export" in resp.get_data(as_text=True), url
        assert render.calls == 1  # none of them rendered beside the first
    finally:
        render.release.set()
        t.join(10)
    assert first["resp"].status_code == 200
    assert app.test_client().get(f"/api/sessions/{other}/report.pdf", headers=AUTH).status_code == 200
