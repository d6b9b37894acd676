"""The printed gait report: one or two pages a runner understands and a clinician trusts.

``render_report_html/pdf`` (one session), ``render_comparison_html/pdf`` (before/after);
``charts`` (SVG charts, shared with the dashboard) and ``evidence.draw_evidence`` (skeleton and
angles drawn on a frame) are importable on their own. WeasyPrint and OpenCV load only when a PDF
or an evidence frame is actually made.
"""

from device.report.render import (
    comparison_rows,
    render_comparison_html,
    render_comparison_pdf,
    render_report_html,
    render_report_pdf,
    session_from_analysis,
)

__all__ = [
    "comparison_rows",
    "render_comparison_html",
    "render_comparison_pdf",
    "render_report_html",
    "render_report_pdf",
    "session_from_analysis",
]
