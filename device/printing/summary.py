"""The short summary printed after a run: who, when, the headline numbers and what stood out.

``format_summary`` turns a stored session (``Store.get_session`` shape) into lines of at most
``width_chars`` characters — the receipt printer's line width. The same lines go on an A4/Letter
page when there is no receipt printer, and into the session's ``summary_text``.

Lines are plain text a receipt printer can print: typographic characters the report uses (− – —
≤ ≥ × → ′ ″) are folded to ASCII equivalents; accented letters in names are kept (the ESC/POS
driver switches code pages for them).
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import Any

from device.gait.evidence import FLAGGED, Status, words
from device.report import catalog
from device.report.findings import at_limit_labels, rank_findings, unsure_labels
from device.report.review import demo_note, reviewed
from device.report.units import Units, is_number

# The numbers a runner asks about at the counter, in this order (when the analysis has them).
KEY_METRICS: tuple[str, ...] = ("contact_time_ms", "overstride_cm", "pelvic_drop_deg")
MAX_FINDINGS = 3

_FOLD = str.maketrans(
    {
        "−": "-",
        "–": "-",
        "—": "-",
        "‒": "-",
        "≤": "<=",
        "≥": ">=",
        "×": "x",
        "→": "->",
        "′": "'",
        "″": '"',
        "·": ".",
        "…": "...",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "\u00a0": " ",
        "≠": "!=",
    }
)


def printable(text: str) -> str:
    """Fold typographic characters to what any receipt printer code page has."""
    return text.translate(_FOLD)


def format_summary(
    session: dict[str, Any],
    width_chars: int = 42,
    units: str = "metric",
    *,
    clinic_name: str = "",
    config: Any = None,
) -> list[str]:
    """The summary of one session as lines no longer than ``width_chars``.

    Reads ``runner`` {name, height_cm}, ``started_at`` (ISO 8601), ``speed_kmh``, ``incline_pct``,
    ``shoes``, ``status``, ``error`` and ``analysis``, read through the evidence gate with the
    clinic's norms (``config``; the packaged norms without one) like the page, report and API.
    A metric that could not be measured is printed as "not measurable" with its reason; a value
    outside its range without the evidence for a flag as "not enough evidence" with why.
    """
    w = int(width_chars)
    if w < 24:
        raise ValueError("width_chars must be at least 24")
    u = Units(units)
    out = _Lines(w)
    rule = "-" * w

    out.center(clinic_name or "Gait Station")
    walking = (session.get("analysis") or {}).get("activity") == "walking"
    out.center(f"{'Walking' if walking else 'Running'} gait summary")
    out.add(rule)
    runner = session.get("runner") or {}
    out.field("Runner", str(runner.get("name") or "-"))
    out.field("Date", _when(session.get("started_at")))
    speed = session.get("speed_kmh")
    if is_number(speed):
        incline = session.get("incline_pct")
        extra = f", {incline:g}% incline" if is_number(incline) and incline else ""
        out.field("Speed", u.speed(speed) + extra)
    if session.get("shoes"):
        out.field("Shoes", str(session["shoes"]))
    out.add(rule)
    demo = demo_note(session)
    if demo:
        out.para(demo)
        out.add(rule)

    analysis = session.get("analysis")
    if not analysis:
        status = session.get("status") or "unknown"
        if status == "failed":
            out.para("Analysis failed: " + str(session.get("error") or "no reason recorded"))
        else:
            out.para(f"No analysis yet (session {status}).")
        return out.lines

    _analysis_lines(out, reviewed(analysis, config, u) or {}, u)
    return out.lines


def _analysis_lines(out: _Lines, analysis: dict[str, Any], u: Units) -> None:
    """The reviewed analysis: why no finding is made (first), the key numbers and every flagged
    metric, the step count, what stood out and the capture verdict."""
    rule = "-" * out.w
    q = analysis.get("quality") or {}
    evidence = q.get("evidence") or {}
    withheld = [str(x) for x in q.get("withheld") or []]
    if withheld:  # the reason comes before any number
        out.add("NO FINDINGS FROM THIS CAPTURE:")
        for x in withheld:
            out.para(x, bullet="! ")
        out.add(rule)
    metrics: dict[str, dict[str, Any]] = analysis.get("metrics") or {}
    cadence = metrics.get("cadence_spm") or {"value": analysis.get("cadence_spm"), "unit": "spm"}
    if cadence.get("value") is None and not cadence.get("reason"):
        cadence = {**cadence, "reason": "too few steps seen"}
    out.metric("Cadence", cadence, u, evidence.get("cadence_spm"), withheld)
    flagged = [
        m for m in catalog.sorted_ids(list(metrics)) if (evidence.get(m) or {}).get("status") in FLAGGED
    ]
    # the key numbers, then every other flagged metric: the receipt carries the page's flags
    for mid in [*(m for m in KEY_METRICS if m in metrics), *(m for m in flagged if m not in KEY_METRICS)]:
        if mid != "cadence_spm":
            out.metric(catalog.info(mid).label, metrics[mid], u, evidence.get(mid), withheld)
    if is_number(q.get("steps_used")):
        out.field("Steps", f"{q['steps_used']} used ({q.get('strides_used', q['steps_used'] // 2)} strides)")
    out.add(rule)

    findings = rank_findings(metrics, u, evidence)[:MAX_FINDINGS]
    if findings:
        out.add("What stood out:")
        for f in findings:
            out.para(f.text, bullet="* ")
    elif not withheld:
        unsure, at_limit = unsure_labels(evidence), at_limit_labels(evidence)
        if unsure or at_limit:  # not "all normal": some values lack the evidence for any verdict
            parts = [f"At the limit: {', '.join(at_limit)}"] if at_limit else []
            parts += [f"Not enough evidence for: {', '.join(unsure)}"] if unsure else []
            out.para(f"Nothing flagged. {'; '.join(parts)} (see the report).")
        else:
            out.para("Nothing outside the clinic's normal ranges.")
    verdict = q.get("verdict")
    if verdict:
        if out.lines[-1] != rule:  # nothing stood out on a withheld capture: one rule, not two
            out.add(rule)
        code = str(q.get("verdict_code") or "")
        out.para("Capture: " + (str(verdict) if code in ("", "good") else f"{code} - {verdict}"))


def _when(started_at: Any) -> str:
    if not started_at:
        return "-"
    try:
        dt = datetime.fromisoformat(str(started_at))
    except ValueError:
        return str(started_at)
    if dt.tzinfo is not None:
        dt = dt.astimezone()  # stored in UTC; printed in the clinic's local time
    return dt.strftime("%Y-%m-%d %H:%M")


class _Lines:
    """Builds width-limited lines."""

    def __init__(self, width: int) -> None:
        self.w = width
        self.lines: list[str] = []

    def add(self, text: str) -> None:
        self.lines.append(printable(text)[: self.w])

    def center(self, text: str) -> None:
        for line in textwrap.wrap(printable(text), self.w) or [""]:
            self.lines.append(line.center(self.w).rstrip())

    def para(self, text: str, bullet: str = "") -> None:
        self.lines.extend(
            textwrap.wrap(printable(text), self.w, initial_indent=bullet, subsequent_indent=" " * len(bullet))
        )

    def field(self, label: str, value: str) -> None:
        """ "Label:  value", the value wrapped under itself."""
        head = f"{label + ':':<8}"
        self.lines.extend(
            textwrap.wrap(printable(value), self.w, initial_indent=head, subsequent_indent=" " * len(head))
            or [head.rstrip()]
        )

    def metric(
        self,
        label: str,
        m: dict[str, Any],
        u: Units,
        ev: dict[str, Any] | None = None,
        withheld: list[str] | None = None,
    ) -> None:
        """Label left, value right with the evidence gate's word (one vocabulary); the sides, the
        far leg marked; or "not measurable" and why."""
        unit = m.get("unit") or ""
        value = m.get("value")
        left, right = m.get("left"), m.get("right")
        if not is_number(value) and not (is_number(left) or is_number(right)):
            self._row(label, "not measurable")
            reason = m.get("reason")
            if reason:
                self.para(f"({reason})", bullet="  ")
            return
        ev = ev or {}
        status = ev.get("status")
        shown = u.value(value, unit) if is_number(value) else "-"
        if status in FLAGGED and not ev.get("only"):  # else the mean is in range: the side says it
            shown += " " + words(status)
        self._row(label, shown)
        if is_number(left) or is_number(right):
            sides = []
            # the word goes where the finding rests: on the mean's row (above), or on the side
            # the gate names (``only``: the mean is in range), never on the far leg by itself
            only = ev.get("only") if status in FLAGGED else None
            for side, v in (("L", left), ("R", right)):
                full = "left" if side == "L" else "right"
                note = " (far)" if ev.get("far") == full and is_number(v) else ""
                if only == full:
                    note += " " + words(status)
                sides.append(f"{side} {u.value(v, unit)}{note}")
            self.para("   ".join(sides), bullet="  ")
        if status in (Status.NOT_ENOUGH_EVIDENCE, Status.AT_LIMIT):
            why = ev.get("why") or ""
            why = "see above" if why in (withheld or []) else why
            self.para(f"{words(status)}: {why}" if why else words(status), bullet="  ")

    def _row(self, label: str, value: str) -> None:
        label, value = printable(label), printable(value)
        room = self.w - len(value) - 1
        if len(label) > room:  # label and value do not fit on one line: two lines, nothing cut
            self.para(label)
            self.add(value.rjust(self.w))
            return
        self.lines.append(f"{label:<{room}} {value}")
