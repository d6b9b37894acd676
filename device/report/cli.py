"""`gait-station report`: render (and print) the gait report of a stored session or an analysis JSON.

    gait-station report 12                      # session 12 from the station database -> PDF
    gait-station report run.json --html r.html  # a bare `gait-station analyze` output
    gait-station report 12 --compare 9 --print  # before (9) / after (12) comparison, sent to CUPS

Heavy imports (WeasyPrint, OpenCV) happen inside functions: the CLI imports this module at start.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from device.cli_args import check_outputs, written_whole
from device.errors import InputError, UserError

DB_NAME = "station.db"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="SESSION_ID|ANALYSIS.json",
        help="a session id from the station database, or an analysis JSON file",
    )
    parser.add_argument("--data-dir", metavar="DIR", help="station data folder (holds station.db)")
    parser.add_argument("--config", metavar="FILE", help="configuration file (units, paper, clinic name)")
    parser.add_argument(
        "--pdf",
        metavar="OUT",
        help="write the PDF here (default: gait-report-<name>.pdf in the current folder)",
    )
    parser.add_argument("--html", metavar="OUT", help="write the self-contained HTML here")
    parser.add_argument(
        "--print",
        dest="send_to_printer",
        action="store_true",
        help="send the PDF to the CUPS queue of [printing] cups_queue",
    )
    parser.add_argument(
        "--compare",
        metavar="OTHER",
        help="compare with another session id or analysis JSON (the earlier one is 'before')",
    )
    parser.add_argument(
        "--name", metavar="RUNNER", help="runner name to show for an analysis JSON (no runner recorded)"
    )


class _Loaded:
    """A report input: the session dict, its evidence frames and a short name for output files."""

    def __init__(
        self, session: dict[str, Any], evidence: list[tuple[dict[str, Any], bytes]], slug: str
    ) -> None:
        self.session = session
        self.evidence = evidence
        self.slug = slug


def _looks_like_file(target: str) -> bool:
    return target.lower().endswith(".json") or os.sep in target or Path(target).is_file()


def _load_json(path: Path, name: str | None) -> _Loaded:
    from device.report.render import require_analysis, session_from_analysis

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    try:
        if isinstance(data, dict) and isinstance(data.get("analysis"), dict) and "metrics" not in data:
            require_analysis(data["analysis"])
            session = dict(data)  # an exported session (Store.get_session shape)
            if name:
                session["runner"] = {**(session.get("runner") or {}), "name": name}
        else:
            session = session_from_analysis(data, name=name, source=path.name)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-") or "analysis"
    return _Loaded(session, [], slug)


def _open_store(cfg: Any) -> Any:
    from device.store import Store

    db = Path(cfg.data_dir) / DB_NAME
    if not db.is_file():  # never create an empty database just to read a report
        raise UserError(f"no station database at {db} (use --data-dir, or give an analysis JSON file)")
    return Store(db)


def _load_session(store: Any, target: str) -> _Loaded:
    try:
        session_id = int(target)
    except ValueError:
        raise InputError(
            f"{target!r} is neither a session id (a number) nor an analysis .json file"
        ) from None
    session = store.get_session(session_id)  # NotFoundError is a UserError: "session N not found"
    if not isinstance(session.get("analysis"), dict):
        status = session.get("status") or "unknown"
        detail = f": {session['error']}" if session.get("error") else ""
        raise UserError(f"session {session_id} has no analysis yet (status {status}{detail})")
    evidence: list[tuple[dict[str, Any], bytes]] = []
    for meta in store.list_evidence(session_id):
        evidence.append((meta, store.get_evidence(meta["id"])["jpeg"]))
    return _Loaded(session, evidence, f"session-{session_id}")


class _Outputs:
    """The report's files as they are written: one that fails (a full disk) does not stop the
    others, and the one line that reports it names what was kept."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.failed: list[str] = []

    def write(self, option: str, path: Path, data: bytes) -> bool:
        path = path.expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with written_whole(path) as tmp:
                tmp.write_bytes(data)
        except OSError as exc:
            self.failed.append(f"cannot write {path} ({option}): {exc.strerror or exc}")
            return False
        self.kept.append(str(path))
        return True

    def check(self) -> None:
        if self.failed:
            kept = f"; kept {' and '.join(self.kept)}" if self.kept else ""
            raise UserError("; ".join(self.failed) + kept)


def _order(a: _Loaded, b: _Loaded) -> tuple[_Loaded, _Loaded]:
    """(before, after): by recording time when both are known, else OTHER (``b``) is 'before'."""
    ta, tb = a.session.get("started_at"), b.session.get("started_at")
    if ta and tb and str(ta) < str(tb):
        return a, b
    return b, a


def main(args: argparse.Namespace) -> int:
    from device.config import load_config
    from device.report import render

    if not args.verbose:  # -v of the top-level parser (device/cli.py)
        # WeasyPrint reports every layout step at INFO: noise on a terminal.
        for name in ("weasyprint", "fontTools"):
            logging.getLogger(name).setLevel(logging.WARNING)
    # before the session is read and rendered: a bad output path is said first, in one line
    inputs = [Path(t) for t in (args.target, args.compare) if t and _looks_like_file(t)]
    outputs = {"--html": Path(args.html).expanduser() if args.html else None}
    if args.pdf:
        outputs["--pdf"] = Path(args.pdf).expanduser()
    elif args.send_to_printer or not args.html:  # the default PDF goes in the current folder
        outputs["--pdf (not given: the current folder)"] = Path("gait-report.pdf").absolute()
    check_outputs(outputs, inputs=inputs, make_parents=True)
    cfg = load_config(args.config, args.data_dir)
    store = None
    try:

        def load(target: str) -> _Loaded:
            nonlocal store
            if _looks_like_file(target) and not target.isdigit():
                return _load_json(Path(target), args.name)
            if not target.isdigit():
                raise InputError(f"{target!r} is neither a session id (a number) nor an analysis .json file")
            if store is None:
                store = _open_store(cfg)
            return _load_session(store, target)

        main_in = load(args.target)
        if args.compare:
            before, after = _order(main_in, load(args.compare))
            html = render.render_comparison_html(before.session, after.session, cfg)
            slug = f"comparison-{before.slug}-vs-{after.slug}"
        else:
            html = render.render_report_html(main_in.session, cfg, main_in.evidence)
            slug = f"report-{main_in.slug}"
    finally:
        if store is not None:
            store.close()

    out = _Outputs()
    if args.html and out.write("--html", Path(args.html), html.encode("utf-8")):
        print(f"HTML written to {args.html}")
    pdf_path: Path | None = None
    if args.pdf or args.send_to_printer or not args.html:
        pdf_path = Path(args.pdf) if args.pdf else Path(f"gait-{slug}.pdf")
        if out.write("--pdf", pdf_path, render.html_to_pdf(html)):
            print(f"PDF written to {pdf_path}")
        else:
            pdf_path = None  # nothing to print
    out.check()
    if args.send_to_printer and pdf_path is not None:
        _send_to_cups(pdf_path, cfg.printing.cups_queue)
    return 0


def _send_to_cups(pdf_path: Path, queue: str) -> None:
    try:
        from device.printing import CupsPrinter
    except ImportError as exc:
        raise UserError(f"PDF written to {pdf_path}, but printing is not available here ({exc})") from None
    try:
        job = CupsPrinter(queue).print_file(pdf_path, title=pdf_path.stem)
    except UserError as exc:
        raise UserError(f"PDF written to {pdf_path}, but it was not printed: {exc}") from None
    except OSError as exc:
        raise UserError(f"PDF written to {pdf_path}, but it was not printed: {exc.strerror or exc}") from None
    where = f"queue {queue}" if queue else "the default printer"
    print(f"sent to {where}" + (f" (job {job})" if job else ""))
