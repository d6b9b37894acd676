"""Normal ranges the clinic compares its runners against (``norms.toml``, editable).

Each entry names a metric id from gait-metrics.md and gives ``low`` and/or ``high`` bounds,
the flag texts shown when a value falls outside (``flag_low`` / ``flag_high``), and a
``source`` / ``rationale`` so a clinician can see where a number comes from. The packaged
``device/gait/norms.toml`` is the default; a clinic may point the station at its own copy.

Pure: :func:`norms_from_dict` checks a parsed file; reading it is :mod:`device.norms_file`'s job,
so :func:`analyze` gets a ready :class:`Norms` and reads no file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from device.errors import ConfigError

_ALLOWED = {"low", "high", "flag_low", "flag_high", "source", "rationale", "unit", "applies_to"}


@dataclass(frozen=True)
class NormRange:
    """The normal range of one metric and what to say when a value is outside it."""

    metric: str
    low: float | None = None
    high: float | None = None
    flag_low: str | None = None
    flag_high: str | None = None
    source: str = ""
    rationale: str = ""
    applies_to: str = "value"  # "value" (mean), or "sides" (each side checked)

    def flag(self, value: float | None) -> str | None:
        """ "low" / "high" when ``value`` is outside the range, else None."""
        if value is None:
            return None
        if self.low is not None and value < self.low:
            return "low"
        if self.high is not None and value > self.high:
            return "high"
        return None

    def widened(self, margin: float) -> NormRange:
        """The same range with each limit moved out by ``margin`` (a measurement's error)."""
        return replace(
            self,
            low=None if self.low is None else self.low - margin,
            high=None if self.high is None else self.high + margin,
        )

    def text(self, flag: str | None) -> str | None:
        if flag == "low":
            return self.flag_low
        if flag == "high":
            return self.flag_high
        return None


@dataclass(frozen=True)
class EvidenceRules:
    """What a finding needs (the ``[evidence]`` table): a "good" verdict, a flag or a cue needs a
    capture of at least ``min_duration_s`` at a real frame rate of at least ``min_fps``, and the
    metric at least ``min_steps`` foot contacts (``min_side_steps`` per side for a one-side flag);
    the capture as a whole ``min_steps`` strides (twice as many steps)."""

    min_duration_s: float = 20.0
    min_fps: float = 20.0
    min_steps: int = 8
    min_side_steps: int = 4
    source: str = ""


@dataclass(frozen=True)
class Norms:
    """All normal ranges by metric id, what a finding needs, and where they were read from."""

    ranges: dict[str, NormRange] = field(default_factory=dict)
    path: str | None = None
    evidence: EvidenceRules = field(default_factory=EvidenceRules)

    def get(self, metric: str) -> NormRange | None:
        return self.ranges.get(metric)


def _num(v: Any, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ConfigError(f"{where}: must be a number, not {v!r}")
    return float(v)


def norms_from_dict(data: dict[str, Any], path: str | None = None, known: set[str] | None = None) -> Norms:
    """Validate a parsed norms document (``{"metrics": {id: {...}}}``) into :class:`Norms`."""
    where0 = path or "norms"
    metrics = data.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        raise ConfigError(f"{where0}: needs a [metrics.<id>] table for each metric with a normal range")
    ranges: dict[str, NormRange] = {}
    for mid, entry in metrics.items():
        where = f"{where0}: [metrics.{mid}]"
        if known is not None and mid not in known:
            raise ConfigError(f"{where}: unknown metric id (see gait-metrics.md)")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        extra = set(entry) - _ALLOWED
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        low, high = _num(entry.get("low"), f"{where} low"), _num(entry.get("high"), f"{where} high")
        if low is None and high is None:
            raise ConfigError(f"{where}: give low, high or both")
        if low is not None and high is not None and low >= high:
            raise ConfigError(f"{where}: low ({low:g}) must be below high ({high:g})")
        for k in ("flag_low", "flag_high", "source", "rationale"):
            if k in entry and not isinstance(entry[k], str):
                raise ConfigError(f"{where} {k}: must be text")
        if not entry.get("source"):
            raise ConfigError(f'{where}: say where the range comes from (source = "...")')
        applies = entry.get("applies_to", "value")
        if applies not in ("value", "sides"):
            raise ConfigError(f'{where} applies_to: must be "value" or "sides"')
        ranges[mid] = NormRange(
            metric=mid,
            low=low,
            high=high,
            flag_low=entry.get("flag_low") or (f"{mid} below {low:g}" if low is not None else None),
            flag_high=entry.get("flag_high") or (f"{mid} above {high:g}" if high is not None else None),
            source=entry.get("source", ""),
            rationale=entry.get("rationale", ""),
            applies_to=applies,
        )
    return Norms(ranges=ranges, path=path, evidence=_evidence_rules(data.get("evidence"), where0))


_EVIDENCE_KEYS = {"min_duration_s", "min_fps", "min_steps", "min_side_steps", "source"}


def _evidence_rules(entry: Any, where0: str) -> EvidenceRules:
    """The ``[evidence]`` table (optional: a clinic's older norms file gets the packaged rules)."""
    if entry is None:
        return EvidenceRules()
    where = f"{where0}: [evidence]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    extra = set(entry) - _EVIDENCE_KEYS
    if extra:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    vals: dict[str, Any] = {}
    for k in ("min_duration_s", "min_fps", "min_steps", "min_side_steps"):
        v = _num(entry.get(k), f"{where} {k}")
        if v is None:
            continue
        if v <= 0:
            raise ConfigError(f"{where} {k}: must be above 0, not {v:g}")
        vals[k] = int(v) if k.endswith("steps") else v
    if "source" in entry and not isinstance(entry["source"], str):
        raise ConfigError(f"{where} source: must be text")
    return replace(EvidenceRules(), **vals, source=str(entry.get("source", "")))
