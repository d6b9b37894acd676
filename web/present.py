"""Turn the analysis JSON into what the session, comparison and live pages show (no Flask here).

Names, reasons and the before/after rule are the printed report's (:mod:`device.report`): the
comparison marks a difference only when it exceeds the runner's stride-to-stride noise, the
pooled sd of the two sessions (:func:`device.report.findings.compare_metric`); without an sd the
page says it cannot tell, rather than guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from device.report import catalog
from device.report.findings import (
    compare_metric,
    flag_direction,
    metric_si,
    reason_text,
    status_words,
    withheld_between,
)
from device.report.rear import REAR_GROUP, rear_summary
from device.report.review import reviewed, session_time
from device.report.units import is_number


@dataclass
class MetricRow:
    id: str
    label: str
    explain: str
    group: str
    unit: str
    value: float | None
    sd: float | None
    n: int
    left: float | None
    right: float | None
    normal: list[Any] | None
    flag: str | None
    direction: str | None
    reason: str | None
    symmetry_pct: float | None
    source: str | None = None  # "rear" when the rear camera measured it
    status: str = ""  # the evidence gate's verdict (device.gait.evidence.Status)
    why: str = ""  # why a value outside its range is not flagged ("not enough evidence")
    far: str | None = None  # the side seen through the near leg: marked, never a finding alone
    only: str | None = None  # the side a flag rests on while the mean is in range

    @property
    def status_words(self) -> str:
        """The one vocabulary: "above normal", "in range", "not enough evidence", …"""
        return status_words({"status": self.status, "only": self.only})

    @property
    def measurable(self) -> bool:
        return is_number(self.value) or is_number(self.left) or is_number(self.right)


def metric_rows(analysis: dict[str, Any] | None) -> list[MetricRow]:
    """Every contract metric in contract order (unmeasurable ones included, with reason), plus any
    extra metric the analysis reports. Nothing when there is no analysis."""
    if not analysis:
        return []
    metrics = catalog.complete_metrics(analysis.get("metrics"))
    q = analysis.get("quality") or {}
    evidence = q.get("evidence") or {}
    withheld = q.get("withheld") or []
    rows = []
    for mid in catalog.sorted_ids(set(metrics)):
        m = metrics[mid] or {}
        ev = evidence.get(mid) or {}
        why = str(ev.get("why") or "")
        inf = catalog.info(mid)
        rows.append(
            MetricRow(
                id=mid,
                label=inf.label,
                explain=inf.explain,
                group=inf.group,
                unit=m.get("unit") or "",
                value=m.get("value"),
                sd=m.get("sd"),
                n=int(m.get("n") or 0),
                left=m.get("left"),
                right=m.get("right"),
                normal=m.get("normal"),
                flag=m.get("flag"),
                direction=flag_direction(m),
                reason=reason_text(m.get("reason")),
                symmetry_pct=metric_si(m),
                source=m.get("source"),
                status=str(ev.get("status") or ""),
                why="see the note at the top" if why in withheld else why,
                far=ev.get("far"),
                only=ev.get("only"),
            )
        )
    return rows


def session_analysis(session: dict[str, Any], config: Any) -> dict[str, Any] | None:
    """The session's analysis as every surface shows it: through the evidence gate with the
    clinic's current norms and coaching profile (the report, receipt and API do the same)."""
    return reviewed(session.get("analysis"), config)


def session_evidence(items: list[dict[str, Any]], analysis: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Evidence frames as the page and the API show them: ``t`` in seconds into the session (as
    the report captions it), ``t_source`` the source clock the frame store and keypoints use."""
    return [{**ev, "t": session_time(analysis, ev.get("t")), "t_source": ev.get("t")} for ev in items]


def grouped(rows: list[MetricRow], *, rear: bool = False) -> list[tuple[str, list[MetricRow]]]:
    """Rows by table section in catalog order; the rear-view section is left out (it has its own
    block, :func:`rear_view`) unless ``rear``."""
    out: dict[str, list[MetricRow]] = {}
    for r in rows:
        if (r.group == REAR_GROUP) == rear:
            out.setdefault(r.group, []).append(r)
    order = {g: i for i, g in enumerate(catalog.GROUPS)}
    return sorted(out.items(), key=lambda kv: order.get(kv[0], len(order)))


@dataclass
class RearView:
    """The session page's "Rear view" block: what the rear camera delivered (or why not) and the
    frontal-plane metrics, each with its value or the reason it is not measurable."""

    text: str
    ok: bool
    camera: str | None
    rows: list[MetricRow]
    front: bool = False  # filmed from the front: the block is the "Front view"


def rear_view(analysis: dict[str, Any] | None, rows: list[MetricRow]) -> RearView | None:
    if not analysis:
        return None
    summary = rear_summary(analysis)
    return RearView(
        summary["text"],
        summary["ok"],
        summary["camera"],
        [r for r in rows if r.group == REAR_GROUP],
        summary["front"],
    )


@dataclass
class CompareRow:
    id: str
    label: str
    unit: str
    a: MetricRow | None
    b: MetricRow | None
    delta: float | None
    noise: float | None  # pooled stride-to-stride sd of the two sessions
    verdict: str  # "changed" | "within noise" | "cannot tell" | "not measurable"
    trend: str | None = None  # "toward normal" | "away from normal" | None
    why: str | None = None  # for "cannot tell": why not

    @property
    def changed(self) -> bool:
        return self.verdict == "changed"

    @property
    def neither_measured(self) -> bool:
        return not (self.a is not None and self.a.measurable) and not (
            self.b is not None and self.b.measurable
        )


def compare_rows(analysis_a: dict[str, Any] | None, analysis_b: dict[str, Any] | None) -> list[CompareRow]:
    """Every metric of either session, before (a) and after (b), marked by the report's rule."""
    rows_a = {r.id: r for r in metric_rows(analysis_a)}
    rows_b = {r.id: r for r in metric_rows(analysis_b)}
    raw_a = ((analysis_a or {}).get("metrics")) or {}
    raw_b = ((analysis_b or {}).get("metrics")) or {}
    withheld = withheld_between(analysis_a, analysis_b)
    out = []
    for mid in catalog.sorted_ids(set(rows_a) | set(rows_b)):
        a, b = rows_a.get(mid), rows_b.get(mid)
        ref = b or a
        assert ref is not None
        ch = compare_metric(raw_a.get(mid), raw_b.get(mid), withheld)
        out.append(
            CompareRow(mid, ref.label, ref.unit, a, b, ch.delta, ch.noise, ch.verdict, ch.trend, ch.why)
        )
    return out


def by_reason(rows: list[CompareRow]) -> list[tuple[str, list[str]]]:
    """Metrics measurable in neither session, grouped by reason: ``[(reason, [labels])]``."""
    out: dict[str, list[str]] = {}
    for r in rows:
        ref = r.b or r.a
        out.setdefault((ref.reason if ref else None) or "not measured", []).append(r.label)
    return list(out.items())


def quality_items(analysis: dict[str, Any] | None) -> tuple[str | None, list[str], list[tuple[str, Any]]]:
    """(verdict, warnings, other items) from ``analysis.quality``."""
    q = dict((analysis or {}).get("quality") or {})
    q.pop("evidence", None)  # per metric: shown in the table's flag column
    q.pop("withheld", None)  # shown first on the page
    verdict = q.pop("verdict", None)
    warnings = q.pop("warnings", None) or q.pop("problems", None) or []
    if isinstance(warnings, str):
        warnings = [warnings]
    return (str(verdict) if verdict is not None else None), [str(w) for w in warnings], sorted(q.items())


def live_message(status: dict[str, Any]) -> str:
    """The live page's line under the state badge, from the state itself (the station's own
    message can lag: it says "starting in N s" until the next state change):

    - capturing, countdown running: "Starting in N s…"; recording: "Recording session N";
    - analysing: "Analysing session N…";
    - any other state: the station's message (ready, done with cadence, failure reason, camera)."""
    state = status.get("state") or "idle"
    sid = status.get("session_id")
    countdown = status.get("countdown_s")
    if state in ("capturing", "countdown", "starting"):
        if is_number(countdown) and countdown > 0:
            return f"Starting in {math.ceil(countdown)} s…"
        return f"Recording session {sid}" if sid is not None else "Recording"
    if state == "analysing":
        return f"Analysing session {sid}…" if sid is not None else "Analysing the run…"
    msg = str(status.get("message") or "")
    return msg[:1].upper() + msg[1:]
