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

from device.report import catalog
from device.report.findings import rank_findings
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
    }
)


def printable(text: str) -> str:
    """Fold typographic characters to what any receipt printer code page has."""
    return text.translate(_FOLD)


def format_summary(
    session: dict[str, Any], width_chars: int = 42, units: str = "metric", *, clinic_name: str = ""
) -> list[str]:
    """The summary of one session as lines no longer than ``width_chars``.

    Reads ``runner`` {name, height_cm}, ``started_at`` (ISO 8601), ``speed_kmh``, ``incline_pct``,
    ``shoes``, ``status``, ``error`` and ``analysis`` {cadence_spm, metrics, quality{verdict}}.
    A metric that could not be measured is printed as "not measurable" with its reason.
    """
    w = int(width_chars)
    if w < 24:
        raise ValueError("width_chars must be at least 24")
    u = Units(units)
    out = _Lines(w)
    rule = "-" * w

    out.center(clinic_name or "Gait Station")
    out.center("Running gait summary")
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

    analysis = session.get("analysis")
    if not analysis:
        status = session.get("status") or "unknown"
        if status == "failed":
            out.para("Analysis failed: " + str(session.get("error") or "no reason recorded"))
        else:
            out.para(f"No analysis yet (session {status}).")
        return out.lines

    metrics: dict[str, dict[str, Any]] = analysis.get("metrics") or {}
    cadence = metrics.get("cadence_spm") or {"value": analysis.get("cadence_spm"), "unit": "spm"}
    if cadence.get("value") is None and not cadence.get("reason"):
        cadence = {**cadence, "reason": "too few steps seen"}
    out.metric("Cadence", cadence, u)
    for mid in KEY_METRICS:
        if mid in metrics:
            out.metric(catalog.info(mid).label, metrics[mid], u)
    out.add(rule)

    findings = rank_findings(metrics, u)[:MAX_FINDINGS]
    if findings:
        out.add("What stood out:")
        for f in findings:
            out.para(f.text, bullet="* ")
    else:
        out.para("Nothing outside the clinic's normal ranges.")
    verdict = (analysis.get("quality") or {}).get("verdict")
    if verdict:
        out.add(rule)
        out.para("Capture: " + str(verdict))
    return out.lines


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

    def metric(self, label: str, m: dict[str, Any], u: Units) -> None:
        """Label left, value right; sides and flags, or "not measurable" and why."""
        unit = m.get("unit") or ""
        value = m.get("value")
        left, right = m.get("left"), m.get("right")
        if not is_number(value) and not (is_number(left) or is_number(right)):
            self._row(label, "not measurable")
            reason = m.get("reason")
            if reason:
                self.para(f"({reason})", bullet="  ")
            return
        shown = u.value(value, unit) if is_number(value) else "-"
        flag = str(m.get("flag") or "")
        if flag:
            shown += " " + ("HIGH" if flag == "high" else "LOW" if flag == "low" else "!")
        self._row(label, shown)
        if is_number(left) or is_number(right):
            self.add(f"  L {u.value(left, unit)}   R {u.value(right, unit)}")

    def _row(self, label: str, value: str) -> None:
        label, value = printable(label), printable(value)
        room = self.w - len(value) - 1
        if room < 8:  # value too long for one line with its label: two lines
            self.add(label)
            self.add(value.rjust(self.w))
            return
        if len(label) > room:
            label = label[: room - 1] + "."
        self.lines.append(f"{label:<{room}} {value}")
