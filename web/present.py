"""Turn the analysis JSON into what the session and comparison pages show (no Flask here).

The comparison marks a difference only when it exceeds the stride-to-stride noise: the two
session means differ by more than twice the standard error of their difference,
``|Δ| > 2·s_p·√(1/n_a + 1/n_b)`` with ``s_p`` the pooled stride-to-stride sd. Without sd or
with fewer than 2 strides per session the page says it cannot tell, rather than guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from device.report import catalog
from device.report.findings import flag_direction, symmetry_index
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

    @property
    def measurable(self) -> bool:
        return is_number(self.value) or is_number(self.left) or is_number(self.right)


def metric_rows(analysis: dict[str, Any] | None) -> list[MetricRow]:
    """Every metric of the analysis in contract order (unmeasurable ones included, with reason)."""
    metrics: dict[str, dict[str, Any]] = (analysis or {}).get("metrics") or {}
    rows = []
    for mid in catalog.sorted_ids(set(metrics)):
        m = metrics[mid] or {}
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
                reason=m.get("reason"),
                symmetry_pct=symmetry_index(m.get("left"), m.get("right")),
            )
        )
    return rows


def grouped(rows: list[MetricRow]) -> list[tuple[str, list[MetricRow]]]:
    out: dict[str, list[MetricRow]] = {}
    for r in rows:
        out.setdefault(r.group, []).append(r)
    order = {g: i for i, g in enumerate(catalog.GROUPS)}
    return sorted(out.items(), key=lambda kv: order.get(kv[0], len(order)))


@dataclass
class CompareRow:
    id: str
    label: str
    unit: str
    a: MetricRow | None
    b: MetricRow | None
    delta: float | None
    noise: float | None  # 2 × standard error of the difference
    verdict: str  # "changed" | "within noise" | "cannot tell" | "not measurable"

    @property
    def changed(self) -> bool:
        return self.verdict == "changed"


def difference_noise(sd_a: Any, n_a: int, sd_b: Any, n_b: int) -> float | None:
    """2·pooled sd·√(1/n_a + 1/n_b): the smallest difference of means worth calling a change."""
    if not (is_number(sd_a) and is_number(sd_b)) or n_a < 2 or n_b < 2:
        return None
    pooled_var = ((n_a - 1) * sd_a**2 + (n_b - 1) * sd_b**2) / (n_a + n_b - 2)
    return 2.0 * math.sqrt(pooled_var) * math.sqrt(1.0 / n_a + 1.0 / n_b)


def compare_rows(analysis_a: dict[str, Any] | None, analysis_b: dict[str, Any] | None) -> list[CompareRow]:
    rows_a = {r.id: r for r in metric_rows(analysis_a)}
    rows_b = {r.id: r for r in metric_rows(analysis_b)}
    out = []
    for mid in catalog.sorted_ids(set(rows_a) | set(rows_b)):
        a, b = rows_a.get(mid), rows_b.get(mid)
        ref = a or b
        assert ref is not None
        delta = noise = None
        if a is None or b is None or not is_number(a.value) or not is_number(b.value):
            verdict = "not measurable"
        else:
            delta = float(b.value) - float(a.value)
            noise = difference_noise(a.sd, a.n, b.sd, b.n)
            if noise is None:
                verdict = "cannot tell"
            elif abs(delta) > noise:
                verdict = "changed"
            else:
                verdict = "within noise"
        out.append(CompareRow(mid, ref.label, ref.unit, a, b, delta, noise, verdict))
    return out


def quality_items(analysis: dict[str, Any] | None) -> tuple[str | None, list[str], list[tuple[str, Any]]]:
    """(verdict, warnings, other items) from ``analysis.quality``."""
    q = dict((analysis or {}).get("quality") or {})
    verdict = q.pop("verdict", None)
    warnings = q.pop("warnings", None) or q.pop("problems", None) or []
    if isinstance(warnings, str):
        warnings = [warnings]
    return (str(verdict) if verdict is not None else None), [str(w) for w in warnings], sorted(q.items())
