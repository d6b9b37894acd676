"""The printed gait report (and the before/after comparison) as self-contained HTML and PDF.

HTML comes from Jinja templates with autoescape on (a runner called ``<script>`` prints as
text); CSS is inlined, charts are inline SVG and images are data: URIs, so the document makes
no external request. The PDF is that HTML through WeasyPrint with a fetcher that only accepts
data: URIs. Paper size (A4 / Letter) and units (metric / imperial) follow the configuration.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from device.config import Config
from device.gait.evidence import MEASUREMENT_ERROR, MEASUREMENT_SOURCE, Status, measurement_errors
from device.report import catalog, charts
from device.report.findings import (
    at_limit_labels,
    compare_metric,
    flag_direction,
    good_points,
    metric_si,
    rank_findings,
    reason_text,
    status_words,
    unsure_labels,
    withheld_between,
)
from device.report.rear import REAR_GROUP, from_rear, rear_summary
from device.report.review import demo_note, reviewed, session_series, session_time
from device.report.units import Units, is_number, units_for

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
MAX_LOGO_BYTES = 2_000_000
CHART_W, CHART_H = 270, 200  # SVG user units; printed three across (about 60 mm each)
PHASES = ("initial_contact", "midstance", "toe_off")
PHASE_LABELS = catalog.PHASE_LABELS
VIEW_LABELS = {
    "side": "side view",
    "rear": "rear view",
    "front": "front view",
    "unknown": "view not recognised",
}
# Metrics compared before/after (in this order) when both sessions measured them.
KEY_METRICS = (
    "cadence_spm",
    "overstride_cm",
    "shank_angle_ic_deg",
    "knee_flexion_ic_deg",
    "knee_flexion_stance_peak_deg",
    "hip_extension_peak_deg",
    "trunk_lean_deg",
    "body_lean_deg",
    "hip_hinge_deg",
    "vertical_oscillation_cm",
    "contact_time_ms",
    "duty_factor",
    "pelvic_drop_deg",
    "knee_frontal_angle_deg",
    "step_width_cm",
)


# ---------------------------------------------------------------- session input


def require_analysis(analysis: Any) -> None:
    """ValueError unless ``analysis`` has the shape every analysis has (schema 1 and 2): a
    ``metrics`` object, and a ``schema_version`` or a ``quality`` object. Any other JSON object
    (a truth file, a config) would print as a report of nothing."""
    if not isinstance(analysis, dict):
        raise ValueError("not an analysis JSON (expected an object with 'metrics')")
    shaped = "schema_version" in analysis or isinstance(analysis.get("quality"), dict)
    if not isinstance(analysis.get("metrics"), dict) or not shaped:
        keys = ", ".join(list(analysis)[:4]) + (" …" if len(analysis) > 4 else "")
        raise ValueError(
            "not an analysis JSON (`gait-station analyze` writes 'metrics' and 'quality'; "
            f"this has {keys or 'no keys'})"
        )


def session_from_analysis(
    analysis: dict[str, Any], *, name: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """A session dict (the shape ``Store.get_session`` returns) around a bare analysis JSON, for
    reports of ``gait-station analyze`` output: the runner is unknown unless ``name`` is given;
    height and speed come from the analysis input when it recorded them."""
    require_analysis(analysis)
    inp = analysis.get("input") or {}
    runner = inp.get("runner")
    runner_in: dict[str, Any] = runner if isinstance(runner, dict) else {}
    height = runner_in.get("height_cm", inp.get("height_cm"))
    return {
        "id": None,
        "runner": {"name": name or "", "height_cm": height},
        "started_at": inp.get("started_at"),
        "speed_kmh": runner_in.get("speed_kmh", inp.get("speed_kmh")),
        "incline_pct": runner_in.get("incline_pct", inp.get("incline_pct")),
        "shoes": "",
        "notes": "",
        "view": (analysis.get("view") or {}).get("kind"),
        "source": source or inp.get("source") or inp.get("path"),
        "analysis": analysis,
    }


def _analysis(session: dict[str, Any]) -> dict[str, Any]:
    a = session.get("analysis")
    if not isinstance(a, dict):
        status = session.get("status")
        why = f" (session is {status})" if status and status != "done" else ""
        raise ValueError(f"session {session.get('id')} has no analysis{why}")
    return a


def _date(iso: Any) -> str:
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    return f"{dt.day} {dt:%b %Y, %H:%M}"


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _logo_uri(path: str) -> str | None:
    """The clinic logo as a data: URI; a missing or unreadable logo is logged and left out."""
    if not path:
        return None
    p = Path(path).expanduser()
    mime = mimetypes.guess_type(p.name)[0] or ""
    if mime not in ("image/png", "image/jpeg", "image/svg+xml", "image/gif", "image/webp"):
        log.warning("clinic logo %s: not a PNG/JPEG/SVG image; left out", p)
        return None
    try:
        if p.stat().st_size > MAX_LOGO_BYTES:
            log.warning("clinic logo %s: larger than 2 MB; left out", p)
            return None
        return _data_uri(p.read_bytes(), mime)
    except OSError as exc:
        log.warning("clinic logo %s: %s; left out", p, exc)
        return None


# ---------------------------------------------------------------- context pieces


def _header(session: dict[str, Any], config: Config, units: Units) -> dict[str, Any]:
    a = _analysis(session)
    runner = session.get("runner") or {}
    view = a.get("view") or {}
    kind = view.get("kind") or session.get("view") or "unknown"
    view_text = VIEW_LABELS.get(kind, str(kind))
    if view.get("facing"):
        view_text += f", facing {view['facing']}"
    speed = units.speed(session.get("speed_kmh"))
    incline = session.get("incline_pct")
    if is_number(incline) and speed != "—":
        speed += f", {incline:g}% incline"
    return {
        "clinic_name": config.station.clinic_name or "Gait Station",
        "logo": _logo_uri(config.station.clinic_logo),
        "runner_name": (runner.get("name") or "").strip() or "Runner not recorded",
        "runner_known": bool((runner.get("name") or "").strip()),
        "height": units.height(runner.get("height_cm")),
        "date": _date(session.get("started_at")),
        "speed": speed,
        "shoes": session.get("shoes") or "",
        "view": view_text,
        "activity": a.get("activity") or "unknown",
        "session_id": session.get("id"),
        "notes": session.get("notes") or "",
        "source": session.get("source") if session.get("id") is None else "",
        "demo": demo_note(session),
    }


def _metric_rows(
    metrics: dict[str, dict[str, Any]],
    units: Units,
    evidence: dict[str, dict[str, Any]] | None = None,
    withheld: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Table sections: [{group, rows:[...], unmeasured: reason | None}], in contract order. The
    flag column is the evidence gate's status (``quality.evidence``) in the one vocabulary."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for mid in catalog.sorted_ids(list(metrics)):
        m = metrics[mid] or {}
        unit = m.get("unit", "")
        meta = catalog.info(mid)
        direction = flag_direction(m)
        ev = (evidence or {}).get(mid) or {}
        status = ev.get("status")
        flagged_side = {s: ev.get(s) in (Status.ABOVE, Status.BELOW) for s in ("left", "right")}

        measured = any(is_number(m.get(k)) for k in ("value", "left", "right"))
        sd = m.get("sd")
        si = metric_si(m)
        row = {
            "id": mid,
            "label": meta.label,
            "explain": meta.explain,
            "rear_camera": from_rear(m),
            "measured": measured,
            "reason": reason_text(m.get("reason")),
            "left": units.value(m.get("left"), unit) if is_number(m.get("left")) else "",
            "right": units.value(m.get("right"), unit) if is_number(m.get("right")) else "",
            "left_out": flagged_side["left"],
            "right_out": flagged_side["right"],
            "far": ev.get("far"),
            "status": status or "",
            "why": "see the capture note at the top"
            if ev.get("why") in (withheld or [])
            else ev.get("why") or "",
            "value": units.value(m.get("value"), unit),
            "sd": f"± {units.number(sd, unit)}" if is_number(sd) else "",
            "n": m.get("n") or "",
            # "—" as on the page: no range, or none applied (a walking capture)
            "normal": units.range(m.get("normal"), unit) or "—",
            # as the symmetry row and the page print it ("18.6%", not "19%")
            "si": units.value(si, "%") if si is not None else "",
            "flag": direction,
            "flag_text": status_words(ev),
        }
        by_group.setdefault(meta.group, []).append(row)
    sections = []
    for group in catalog.GROUPS:
        rows = by_group.get(group)
        if not rows:
            continue
        reasons = {r["reason"] for r in rows if not r["measured"]}
        all_null = all(not r["measured"] for r in rows)
        sections.append(
            {
                "group": group,
                "title": group,  # as the table heads it (the rear group: front view when filmed from the front)
                "rows": [] if all_null and len(reasons) == 1 else rows,
                "unmeasured": next(iter(reasons)) if all_null and len(reasons) == 1 else None,
                "labels": ", ".join(r["label"] for r in rows),
            }
        )
    return sections


def _cues(a: dict[str, Any], findings: list[Any]) -> list[dict[str, Any]]:
    """One coaching block per flagged metric, in the order of the findings; blocks with the same
    title are merged. ``a`` is the reviewed analysis: its cues were re-derived by the evidence gate
    (:func:`device.report.review.reviewed`) with the clinic's current coaching profile and norms,
    from the flags the evidence supports."""
    derived = [c for c in (a.get("cues") or []) if isinstance(c, dict)]
    by_metric: dict[str, dict[str, Any]] = {}
    for c in derived:
        by_metric.setdefault(str(c.get("metric")), c)
    out: list[dict[str, Any]] = []
    titles: dict[str, dict[str, Any]] = {}
    for f in findings:
        cue = by_metric.pop(f.metric_id, None)
        if cue is not None:
            _add_cue(out, titles, cue, f.metric_id)
    for c in by_metric.values():  # cues for metrics the report did not rank
        _add_cue(out, titles, c, str(c.get("metric") or ""))
    return out


def _add_cue(
    out: list[dict[str, Any]], titles: dict[str, dict[str, Any]], cue: dict[str, Any], metric_id: str
) -> None:
    title = str(cue.get("title") or catalog.info(metric_id).label)
    label = catalog.info(metric_id).label if metric_id else ""
    if title in titles:
        block = titles[title]
        if label and label not in block["for"]:
            block["for"].append(label)
        return
    block = {
        "title": title,
        "cue": str(cue.get("cue") or ""),
        "drills": [str(d) for d in cue.get("drills") or []],
        "for": [label] if label else [],
    }
    titles[title] = block
    out.append(block)


def _toe_off_pct(metrics: dict[str, dict[str, Any]]) -> float | None:
    duty = (metrics.get("duty_factor") or {}).get("value")
    return 100.0 * duty if is_number(duty) and 0 < duty < 1 else None


def _charts(a: dict[str, Any], compare: dict[str, Any] | None = None) -> list[str]:
    """SVG charts: joint-angle curves (knee, hip, then others; at most three) and cadence over the run."""
    curves = a.get("curves") or {}
    ordered = [k for k in catalog.CURVE_ORDER if k in curves] + sorted(
        k for k in curves if k not in catalog.CURVE_ORDER
    )
    out: list[str] = []
    toe = _toe_off_pct(a.get("metrics") or {})
    for key in ordered[:3]:
        cmp_curve = (compare.get("curves") or {}).get(key) if compare else None
        out.append(
            charts.angle_cycle_chart(
                curves[key],
                title=catalog.curve_label(key),
                toe_off_pct=toe,
                compare=cmp_curve,
                width=CHART_W,
                height=CHART_H,
                legend=False,
            )
        )
    cad = (a.get("metrics") or {}).get("cadence_spm") or {}
    series = session_series(a)
    # a cadence curve needs a few points: a 2-second clip gives one, which is no curve at all
    if len(series) >= 3 or (compare is not None and len(compare.get("cadence_series") or []) >= 3):
        out.append(
            charts.cadence_chart(
                series,
                normal=cad.get("normal"),
                compare=session_series(compare) if compare else None,
                width=CHART_W,
                height=CHART_H,
                legend=False,
            )
        )
    return out


def _evidence_entries(
    a: dict[str, Any], evidence: list[tuple[dict[str, Any], bytes]] | None, units: Units
) -> list[dict[str, Any]]:
    """Evidence frames drawn (skeleton, angles) and encoded as data: URIs, ordered left then right,
    landing → midstance → push-off. Frames without keypoints are shown as captured."""
    if not evidence:
        return []
    from device.report.evidence import draw_evidence

    by_key = {(e.get("side"), e.get("phase")): e for e in a.get("evidence") or [] if isinstance(e, dict)}
    # a rear camera's frames go with its own analysis; the side camera's are the ones drawn here
    if any(m.get("camera", "main") == "main" for m, _ in evidence):
        evidence = [(m, j) for m, j in evidence if m.get("camera", "main") == "main"]
    entries: list[dict[str, Any]] = []
    for meta, jpeg in evidence:
        side, phase = meta.get("side"), meta.get("phase")
        stored_meta = meta.get("meta")
        stored: dict[str, Any] = stored_meta if isinstance(stored_meta, dict) else {}
        angles = dict(
            meta.get("angles")
            or stored.get("angles")
            or (by_key.get((side, phase)) or {}).get("angles")
            or {}
        )
        kp = meta.get("keypoints")
        img = jpeg
        if kp is not None:
            try:
                img = draw_evidence(
                    jpeg,
                    kp,
                    angles,
                    str(side),
                    phase=phase if isinstance(phase, str) else None,
                    crop=True,
                    out_height=480,
                    units=units.system,
                )
            except ValueError as exc:
                log.warning("evidence frame %s/%s: %s", side, phase, exc)
                continue
        entries.append(
            {
                "side": side,
                "phase": phase,
                "caption": f"{str(side).capitalize()} · {PHASE_LABELS.get(str(phase), str(phase))}",
                "t": _session_t(a, meta.get("t")),
                "src": _data_uri(img, "image/jpeg"),
            }
        )
    side_rank = {"left": 0, "right": 1}
    phase_rank = {p: i for i, p in enumerate(PHASES)}
    entries.sort(key=lambda e: (side_rank.get(e["side"], 2), phase_rank.get(e["phase"], 9)))
    return entries


def _session_t(a: dict[str, Any], t: Any) -> str:
    rel = session_time(a, t)
    return f"{rel:.2f} s into the run" if rel is not None else ""


# Quality figures shown on paper, in this order (the engine may report more; they stay in the JSON).
_QUALITY_SHOWN: tuple[tuple[tuple[str, ...], str], ...] = (
    (("frames_analysed", "frames", "n_frames"), "Frames analysed"),
    (("duration_s",), "Duration"),
    (("effective_fps", "fps"), "Effective frame rate (frames analysed over the time they span)"),
    (("steps_used",), "Steps used"),
    (("strides_used",), "Strides used (2 steps each)"),
    (("steps_rejected",), "Steps rejected"),
    (("body_seen_fraction",), "Runner seen"),
    (("leg_seen_fraction",), "Legs seen"),
    (("swaps_corrected",), "Left/right swaps corrected"),
)
_VERDICTS = {
    "good": "Good capture: enough steady running, frame rate and agreement with the chosen view to make findings.",
    "limited": "Limited capture",
    "unusable": "Unusable capture",
}


def quality_note(q: dict[str, Any]) -> dict[str, Any]:
    """The quality note of a reviewed analysis: verdict in words (the gate's ``verdict_code`` and
    issues), why findings are withheld, the figures that back it, and the engine's warnings."""
    items: list[tuple[str, str]] = []
    for keys, label in _QUALITY_SHOWN:
        for key in keys:
            if key in q:
                text = _quality_value(key, q[key])
                if text:
                    items.append((label, text))
                break
    code = str(q.get("verdict_code") or "")
    verdict = q.get("verdict")
    if code == "good":
        verdict_text = _VERDICTS["good"]
    elif code in _VERDICTS:
        verdict_text = f"{_VERDICTS[code]}: {verdict}." if verdict else f"{_VERDICTS[code]}."
    else:
        verdict_text = str(verdict or "")
    raw = q.get("warnings") or q.get("hints") or []
    hints = [str(h) for h in raw if h] if isinstance(raw, list) else [str(raw)]
    withheld = [str(w) for w in q.get("withheld") or []]
    return {"verdict": verdict_text, "code": code, "withheld": withheld, "figures": items, "hints": hints}


def _quality_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_number(value):
        if key.endswith("fps") or key == "fps":
            return f"{value:.1f} fps"
        if key.endswith("_s"):
            return f"{value:.1f} s"
        if ("frac" in key or "seen" in key or key == "confidence") and 0 <= value <= 1:
            return f"{100 * value:.0f}%"
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value and all(is_number(v) for v in value.values()):
        return ", ".join(f"{k} {_quality_value(key, v)}" for k, v in value.items())
    return ""


# ---------------------------------------------------------------- templates


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def _css(paper: str) -> str:
    size = "letter" if str(paper).lower() == "letter" else "A4"
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return f"@page {{ size: {size} portrait; }}\n" + css


def _paper(config: Config) -> str:
    return config.printing.paper or "A4"


def render_report_html(
    session: dict[str, Any], config: Config, evidence: list[tuple[dict[str, Any], bytes]] | None = None
) -> str:
    """The full gait report of one session as print-ready, self-contained HTML.

    ``session``: as ``Store.get_session`` returns it (or :func:`session_from_analysis`);
    ``evidence``: ``[(meta, jpeg)]`` from the store (meta has side, phase, t and keypoints)."""
    from markupsafe import Markup

    units = units_for(config)
    a = reviewed(_analysis(session), config)
    metrics = {k: v for k, v in (a.get("metrics") or {}).items() if isinstance(v, dict)}
    q = a.get("quality") or {}
    findings = rank_findings(metrics, units, q.get("evidence"))
    sections = _metric_rows(catalog.complete_metrics(metrics), units, q.get("evidence"), q.get("withheld"))
    rear = rear_summary(a)
    ctx = {
        "css": Markup(_css(_paper(config))),
        "paper": _paper(config),
        "h": _header(session, config, units),
        "findings": findings[:3],
        "more_findings": len(findings) - 3 if len(findings) > 3 else 0,
        "good": good_points(metrics, units, evidence=q.get("evidence") or {})
        if not findings and not q.get("withheld")
        else [],
        "unsure": unsure_labels(q.get("evidence") or {}),
        "at_limit": at_limit_labels(q.get("evidence") or {}),
        "sections": [sec for sec in sections if sec["group"] != REAR_GROUP],
        "rear": {
            "summary": rear,
            # the section's head says which way the camera looked: a front view is not "rear view"
            "sections": [
                {**sec, "title": "Pelvis and knees (front view)"} if rear["front"] else sec
                for sec in sections
                if sec["group"] == REAR_GROUP
            ],
        },
        "charts": [Markup(svg) for svg in _charts(a)],
        "evidence": _evidence_entries(a, evidence, units),
        "cues": _cues(a, findings),
        "quality": quality_note(q),
        "units": units.system,
        "generated": _date(datetime.now().astimezone().isoformat()),
        "profile": config.station.coaching_profile,
        "accuracy": accuracy_note(q, units),
    }
    return _env().get_template("report.html.j2").render(**ctx)


def accuracy_note(quality: dict[str, Any] | None = None, units: Units | None = None) -> str:
    """Which numbers were checked against a reference, and how far off they can be at the
    capture's frame rate (``quality``: the analysis' quality; none: the 30 fps margins; lengths
    in ``units``, else metric) — one short sentence: the report keeps to two pages."""
    fps = (quality or {}).get("effective_fps")
    errors = measurement_errors(float(fps) if isinstance(fps, int | float) else None)
    timing = [f"{catalog.info(m).label.lower()} ±{e:g} ms" for m, e in errors.items() if m.endswith("_ms")]
    # a length's margin in the report's units (its % of leg form is the same measurement)
    timing += [
        f"{catalog.info(m).label.lower()} ±{(units or Units()).margin(e, 'cm')}"
        for m, e in errors.items()
        if m.endswith("_cm")
    ]
    angle_ids = [m for m in errors if m.endswith("_deg")]
    angles = [errors[m] for m in angle_ids]
    which = "knee angles" if all(m.startswith("knee_") for m in angle_ids) else "joint angles"
    # the rate is named only with margins other than the 30 fps ones (29.99 fps has those)
    at = f", at {fps:.0f} fps" if errors != MEASUREMENT_ERROR and isinstance(fps, int | float) else ""
    # cadence: at most 0.76 % off on the development set, 0.34 % on the labelled clip
    return (
        f"Accuracy vs {MEASUREMENT_SOURCE} (95 % of trials{at}): {', '.join(timing)}, cadence ±1 %, "
        f"{which} ±{min(angles):g}–{max(angles):g}° + the pose model's error; others: synthetic runner only."
    )


def html_to_pdf(html: str) -> bytes:
    import weasyprint
    from weasyprint.urls import URLFetcher

    # Everything is inline: refuse any fetch that is not a data: URI (no network, no local files).
    fetcher = URLFetcher(allowed_protocols=["data"])
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


def render_report_pdf(
    session: dict[str, Any], config: Config, evidence: list[tuple[dict[str, Any], bytes]] | None = None
) -> bytes:
    """The full gait report as PDF bytes (WeasyPrint)."""
    return html_to_pdf(render_report_html(session, config, evidence))


# ---------------------------------------------------------------- comparison


def comparison_rows(a: dict[str, Any], b: dict[str, Any], units: Units) -> list[dict[str, Any]]:
    """Before/after rows for the key metrics measured in both analyses: Δ = after − before,
    ``verdict``, ``why``, ``beyond_noise`` and ``trend`` from
    :func:`device.report.findings.compare_metric` (the rule the dashboard's comparison uses too).
    ``a`` and ``b`` are reviewed analyses: a capture whose findings are withheld gives no change."""
    withheld = withheld_between(a, b)
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    ids = [m for m in KEY_METRICS if m in ma or m in mb]
    ids += [m for m in catalog.sorted_ids(list(set(ma) & set(mb))) if m not in ids]
    rows = []
    for mid in ids:
        x, y = ma.get(mid) or {}, mb.get(mid) or {}
        unit = y.get("unit") or x.get("unit") or ""
        va, vb = x.get("value"), y.get("value")
        if not (is_number(va) or is_number(vb)):
            continue
        ch = compare_metric(x, y, withheld)
        delta, pooled = ch.delta, ch.noise
        beyond, trend = ch.beyond_noise, ch.trend
        normal = y.get("normal") or x.get("normal")
        rows.append(
            {
                "id": mid,
                "label": catalog.info(mid).label,
                "before": units.value(va, unit),
                "after": units.value(vb, unit),
                "before_flag": flag_direction(x),
                "after_flag": flag_direction(y),
                "sd_before": f"± {units.number(x.get('sd'), unit)}" if is_number(x.get("sd")) else "",
                "sd_after": f"± {units.number(y.get('sd'), unit)}" if is_number(y.get("sd")) else "",
                "delta": units.value(delta, unit, signed=True) if delta is not None else "—",
                "beyond_noise": beyond,
                "verdict": ch.verdict,
                "why": ch.why or "",
                "noise": units.value(pooled, unit) if pooled is not None else "",
                "normal": units.range(normal, unit),
                "trend": trend,
                "reason": reason_text(y.get("reason") or x.get("reason")) if delta is None else "",
            }
        )
    return rows


def render_comparison_html(session_a: dict[str, Any], session_b: dict[str, Any], config: Config) -> str:
    """Before (``session_a``) / after (``session_b``) comparison as self-contained HTML."""
    from markupsafe import Markup

    units = units_for(config)
    a, b = reviewed(_analysis(session_a), config), reviewed(_analysis(session_b), config)
    rows = comparison_rows(a, b, units)
    ctx = {
        "css": Markup(_css(_paper(config))),
        "paper": _paper(config),
        "ha": _header(session_a, config, units),
        "hb": _header(session_b, config, units),
        "rows": rows,
        "n_beyond": sum(1 for r in rows if r["beyond_noise"]),
        "withheld": withheld_between(a, b),
        "charts": [Markup(svg) for svg in _charts(b, compare=a)],
        "units": units.system,
        "generated": _date(datetime.now().astimezone().isoformat()),
        "quality_a": quality_note(a.get("quality") or {}),
        "quality_b": quality_note(b.get("quality") or {}),
    }
    return _env().get_template("comparison.html.j2").render(**ctx)


def render_comparison_pdf(session_a: dict[str, Any], session_b: dict[str, Any], config: Config) -> bytes:
    """Before/after comparison as PDF bytes."""
    return html_to_pdf(render_comparison_html(session_a, session_b, config))
