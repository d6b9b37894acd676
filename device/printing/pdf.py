"""The short summary as a one-page PDF, for clinics that print on A4/Letter instead of a receipt."""

from __future__ import annotations

import html

PAPER_SIZES = ("A4", "Letter")


def summary_html(lines: list[str], paper: str = "A4", title: str = "Gait summary") -> str:
    """A self-contained page: the first line as a heading, the rest in a monospace block so the
    receipt's columns line up exactly as on the slip."""
    if paper not in PAPER_SIZES:
        raise ValueError(f"paper must be one of {', '.join(PAPER_SIZES)}; got {paper!r}")
    head = html.escape(lines[0].strip()) if lines else ""
    body = html.escape("\n".join(lines[1:]))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
@page {{ size: {paper}; margin: 20mm; }}
body {{ font-family: "DejaVu Sans", sans-serif; color: #000; }}
h1 {{ font-size: 16pt; margin: 0 0 6mm 0; }}
pre {{ font-family: "DejaVu Sans Mono", monospace; font-size: 11pt; line-height: 1.35; white-space: pre-wrap; }}
</style></head>
<body><h1>{head}</h1><pre>{body}</pre></body></html>
"""


def summary_pdf(lines: list[str], paper: str = "A4", title: str = "Gait summary") -> bytes:
    """The summary lines rendered to PDF bytes with WeasyPrint."""
    import weasyprint  # heavy: only when a page is actually made

    return weasyprint.HTML(string=summary_html(lines, paper, title)).write_pdf()
