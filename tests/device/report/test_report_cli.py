"""`gait-station report`: from the station database or an analysis JSON, to PDF/HTML and CUPS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from device.cli import main as cli
from device.store import Store
from tests.cups_server import CupsServer, cups_server  # noqa: F401 - session fixture
from tests.device.report.conftest import pdf_text
from tests.device.report.handmade import handmade_analysis
from tests.support.synthetic_session import synthetic_session

pytestmark = pytest.mark.slow  # report CLI runs: PDFs, CUPS


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data dir whose station.db holds two analysed sessions (with evidence) and one still capturing."""
    data = tmp_path_factory.mktemp("station")
    session, evidence = synthetic_session(duration_s=12.0)
    with Store(data / "station.db") as store:
        rid = store.create_runner("Robin <b>Tester</b>", 178.0)
        first = store.create_session(rid, speed_kmh=11.0, shoes="Old shoe", view="side")
        store.save_analysis(first, handmade_analysis())
        second = store.create_session(rid, speed_kmh=11.0, shoes="New shoe", view="side")
        store.save_analysis(second, session["analysis"])
        for meta, jpeg in evidence:
            store.add_evidence(
                second, meta["side"], meta["phase"], meta["t"], meta["frame"] or 0, jpeg, meta["keypoints"]
            )
        busy = store.create_session(rid, speed_kmh=11.0)
    return {"dir": data, "first": first, "second": second, "busy": busy, "analysis": session["analysis"]}


def test_session_from_the_store(
    stored: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pdf"
    html = tmp_path / "r.html"
    rc = cli(
        [
            "report",
            str(stored["second"]),
            "--data-dir",
            str(stored["dir"]),
            "--pdf",
            str(out),
            "--html",
            str(html),
        ]
    )
    assert rc == 0
    assert f"PDF written to {out}" in capsys.readouterr().out
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Robin <b>Tester</b>" in text and "New shoe" in text
    page = html.read_text(encoding="utf-8")
    assert "Robin &lt;b&gt;Tester&lt;/b&gt;" in page
    assert page.count('src="data:image/jpeg;base64,') == 6  # the stored evidence frames, drawn


def test_analysis_json_with_default_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "run 1.json"
    src.write_text(json.dumps(handmade_analysis()), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli(["report", str(src), "--name", "Kim"]) == 0
    out = tmp_path / "gait-report-run-1.pdf"
    assert out.is_file()
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Kim" in text and "14.2 cm" in text


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("999", "session 999 not found"),
        ("busy", "has no analysis yet (status capturing)"),
        ("nonsense", "is neither a session id"),
        ("missing.json", "missing.json: no such file"),
        ("bad.json", "bad.json: not valid JSON (line 1"),
        ("list.json", "not an analysis JSON"),
        ("truth.json", "truth.json: not an analysis JSON"),
        ("session.json", "session.json: not an analysis JSON"),
    ],
)
def test_clear_one_line_errors(
    stored: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text('{"metrics": ', encoding="utf-8")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    truth = {"source": "clip.mp4", "fps": 30, "cadence_spm": 170.0, "events": []}  # a truth file
    (tmp_path / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    (tmp_path / "session.json").write_text(json.dumps({"id": 1, "analysis": truth}), encoding="utf-8")
    if target == "busy":
        target = str(stored["busy"])
    rc = cli(["report", target, "--data-dir", str(stored["dir"])])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.glob("*.pdf"))  # nothing half-written


def test_missing_database_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["report", "1", "--data-dir", str(tmp_path / "none")]) == 2
    assert "no station database" in capsys.readouterr().err
    assert not (tmp_path / "none" / "station.db").exists()


def test_compare_two_sessions(stored: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "cmp.pdf"
    rc = cli(
        [
            "report",
            str(stored["second"]),
            "--compare",
            str(stored["first"]),
            "--data-dir",
            str(stored["dir"]),
            "--pdf",
            str(out),
        ]
    )
    assert rc == 0
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Gait comparison" in text and "Old shoe" in text and "New shoe" in text
    # the earlier session is "before" whichever way round they were given
    assert text.index("Old shoe") < text.index("New shoe")


def test_print_with_cups_down_still_writes_the_pdf(
    stored: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "no-cupsd.sock"))
    out = tmp_path / "r.pdf"
    rc = cli(["report", str(stored["first"]), "--data-dir", str(stored["dir"]), "--pdf", str(out), "--print"])
    err = capsys.readouterr().err
    assert rc == 2
    assert out.is_file() and out.read_bytes().startswith(b"%PDF")
    assert f"PDF written to {out}, but it was not printed" in err and len(err.strip().splitlines()) == 1


@pytest.mark.cups
def test_print_through_the_cups_pdf_queue(
    stored: dict[str, Any],
    cups_server: CupsServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CUPS_SERVER", cups_server.server)
    cfg = tmp_path / "station.toml"
    cfg.write_text(f'[printing]\ncups_queue = "{cups_server.queue}"\n', encoding="utf-8")
    out = tmp_path / "r.pdf"
    rc = cli(
        [
            "report",
            str(stored["second"]),
            "--data-dir",
            str(stored["dir"]),
            "--config",
            str(cfg),
            "--pdf",
            str(out),
            "--print",
        ]
    )
    stdout = capsys.readouterr().out
    assert rc == 0, stdout
    job = stdout.split("(job ")[1].split(")")[0]
    printed = cups_server.wait_for_pdf(job)
    assert "Robin" in pdf_text(printed.read_bytes(), tmp_path)


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (lambda d: ["--pdf", str(d)], "--pdf: {d} is a folder"),
        (lambda d: ["--html", str(d / "a.json")], "--html: {d}/a.json is the input"),
        (lambda d: ["--html", str(d / "r"), "--pdf", str(d / "r")], "--pdf: {d}/r is also given to --html"),
        (lambda d: ["--pdf", str(d / "a.json" / "r.pdf")], "--pdf: {d}/a.json is a file, not a folder"),
    ],
)
def test_a_bad_output_path_is_refused_before_the_input_is_read(
    tmp_path: Path, outputs, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    analysis = tmp_path / "a.json"
    analysis.write_text("not json")  # an input error would come first if the input were read first
    assert cli(["report", str(analysis), *outputs(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"gait-station report: error: {message.format(d=tmp_path)}") and err.count("\n") == 1
    )
    assert analysis.read_text() == "not json"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
def test_a_full_disk_for_the_html_still_writes_the_pdf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    analysis = tmp_path / "a.json"
    analysis.write_text(json.dumps(handmade_analysis()))
    pdf = tmp_path / "r.pdf"
    assert cli(["report", str(analysis), "--html", "/dev/full", "--pdf", str(pdf)]) == 2
    out, err = capsys.readouterr()
    assert pdf.read_bytes().startswith(b"%PDF") and f"PDF written to {pdf}" in out
    assert err == (
        f"gait-station report: error: cannot write /dev/full (--html): No space left on device; kept {pdf}\n"
    )
    assert Path("/dev/full").is_char_device()  # written in place, never renamed over
