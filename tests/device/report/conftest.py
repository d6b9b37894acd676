"""Report test helpers: PDF text and page facts through poppler (pdftotext, pdfinfo)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) not installed")
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    src = tmp_path / "report.pdf"
    src.write_bytes(pdf)
    out = subprocess.run([_tool("pdftotext"), "-layout", str(src), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def pdf_info(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    src = tmp_path / "info.pdf"
    src.write_bytes(pdf)
    out = subprocess.run([_tool("pdfinfo"), str(src)], capture_output=True, check=True, text=True)
    info = {}
    for line in out.stdout.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    return info
