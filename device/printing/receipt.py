"""The receipt printer (ESC/POS thermal, via python-escpos) for the short summary.

Printer specs (``[printing] receipt_printer``):

- ``usb:0x04b8:0x0202`` — USB vendor:product id (pyusb; the station user needs access to the
  device: udev rule or the ``lp`` group);
- ``network:192.0.2.10`` or ``network:HOST:PORT`` (raw port 9100 by default);
- ``file:/dev/usb/lp0`` — the kernel's usblp device (no pyusb needed);
- ``dummy`` — nothing is sent; ``print_summary`` returns the ESC/POS bytes (tests, previews).

Anything that stops the slip coming out raises :class:`PrintError` with a one-line message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from device.errors import ConfigError
from device.printing.errors import PrintError

log = logging.getLogger(__name__)

ESC_POS_INIT = b"\x1b@"
DEFAULT_PORT = 9100


@dataclass(frozen=True)
class ReceiptSpec:
    """A parsed ``receipt_printer`` setting."""

    kind: str  # "usb" | "network" | "file" | "dummy"
    vendor_id: int = 0
    product_id: int = 0
    host: str = ""
    port: int = DEFAULT_PORT
    path: str = ""

    def describe(self) -> str:
        if self.kind == "usb":
            return f"USB printer {self.vendor_id:04x}:{self.product_id:04x}"
        if self.kind == "network":
            return f"network printer {self.host}:{self.port}"
        if self.kind == "file":
            return f"printer device {self.path}"
        return "dummy printer"


def parse_spec(spec: str) -> ReceiptSpec:
    """Parse a receipt printer spec; :class:`ConfigError` naming the setting when it is wrong."""
    s = (spec or "").strip()
    bad = ConfigError(
        f"config [printing] receipt_printer: {spec!r} is not a printer; use usb:0xVID:0xPID, "
        "network:HOST[:PORT], file:/dev/usb/lp0 or dummy"
    )
    if s == "dummy":
        return ReceiptSpec("dummy")
    kind, _, rest = s.partition(":")
    if kind == "usb":
        m = re.fullmatch(r"(?:0x)?([0-9a-fA-F]{1,4}):(?:0x)?([0-9a-fA-F]{1,4})", rest)
        if not m:
            raise bad
        return ReceiptSpec("usb", vendor_id=int(m[1], 16), product_id=int(m[2], 16))
    if kind == "network":
        m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^:\[\]\s]+)(?::(\d+))?", rest)
        if not m:
            raise bad
        host = m[1] or m[3]
        port = int(m[2] or m[4] or DEFAULT_PORT)
        if not 1 <= port <= 65535:
            raise bad
        return ReceiptSpec("network", host=host, port=port)
    if kind == "file" and rest.startswith("/"):
        return ReceiptSpec("file", path=rest)
    raise bad


class ReceiptPrinter:
    """Prints summary lines on an ESC/POS receipt printer, then cuts the paper.

    The connection is opened per print and closed afterwards: a printer switched off between
    runs is found again without restarting the station.
    """

    def __init__(self, spec: str, *, timeout_s: float = 5.0, profile: str | None = None) -> None:
        self.spec = parse_spec(spec)
        self.timeout_s = timeout_s
        self.profile = profile  # python-escpos printer profile name (None = generic)

    def __repr__(self) -> str:
        return f"ReceiptPrinter({self.spec.describe()})"

    def _make(self) -> Any:
        from escpos import printer

        s = self.spec
        if s.kind == "dummy":
            return printer.Dummy(profile=self.profile)
        if s.kind == "network":
            return printer.Network(s.host, port=s.port, timeout=self.timeout_s, profile=self.profile)
        if s.kind == "file":
            return printer.File(s.path, profile=self.profile)
        return printer.Usb(
            s.vendor_id, s.product_id, timeout=int(self.timeout_s * 1000), profile=self.profile
        )

    def print_summary(self, lines: list[str]) -> bytes | None:
        """Print ``lines`` (the first one large and bold, as a title) and cut.

        Returns the ESC/POS bytes for the dummy printer, None for a real one.
        """
        where = self.spec.describe()
        p = self._make()
        try:
            self._open(p, where)
            self._check_paper(p, where)
            p._raw(ESC_POS_INIT)  # reset any modes a previous job left set
            unprintable = 0
            for i, line in enumerate(lines):
                text, missing = printable_text(p, line.strip() if i == 0 else line)
                unprintable += missing
                if i == 0:
                    p.set(align="center", bold=True, double_height=True, double_width=False)
                    p.textln(text)
                    p.set_with_default()
                else:
                    p.textln(text)
            if unprintable:
                log.warning(
                    "%s: %d character(s) no code page of the printer has were printed as %r "
                    "(the PDF report shows them)",
                    where,
                    unprintable,
                    FALLBACK,
                )
            p.cut()
            if self.spec.kind == "dummy":
                return bytes(p.output)
            return None
        except PrintError:
            raise
        except Exception as exc:
            raise PrintError(f"receipt printing failed on the {where}: {_reason(exc)}") from exc
        finally:
            try:
                p.close()
            except Exception:  # a failed print already said what went wrong
                log.debug("closing %s failed", where, exc_info=True)

    def _open(self, p: Any, where: str) -> None:
        if self.spec.kind == "dummy":
            return
        try:
            p.open()
        except Exception as exc:
            hint = {
                "usb": "is it plugged in and switched on? (the station user needs USB access: udev rule)",
                "network": "is it switched on and on the network?",
                "file": "is it plugged in and switched on? (the station user must be in the lp group)",
            }[self.spec.kind]
            raise PrintError(f"cannot reach the {where}: {hint} ({_reason(exc)})") from exc

    def _check_paper(self, p: Any, where: str) -> None:
        """Refuse to print when the printer reports no paper; unknown status is not an error
        (many printers, and every ``file:`` device, cannot answer)."""
        if self.spec.kind not in ("usb", "network"):
            return
        try:
            if self.spec.kind == "network":
                p.device.settimeout(min(self.timeout_s, 2.0))
            status = p.paper_status()
        except Exception as exc:  # no answer / not supported: status unknown, print anyway
            log.debug("%s: paper status unknown (%s)", where, exc)
            return
        finally:
            if self.spec.kind == "network" and p.device is not None:
                p.device.settimeout(self.timeout_s)
        if status == 0:
            raise PrintError(f"the {where} is out of paper: load a new roll and print again")
        if status == 1:
            log.warning("%s: paper is running low", where)


FALLBACK = "?"


def printable_text(p: Any, text: str) -> tuple[str, int]:
    """``text`` with every character that none of the printer's ESC/POS code pages holds
    replaced by :data:`FALLBACK`, and how many were replaced.

    python-escpos's magic encoding (``p.magic``) then selects, for each run of text, the code
    page whose bytes it sends (ESC t n before "Zoë" in CP437, Greek in CP737…). Left alone, a
    line with any CJK character would be sent whole as GB18030 bytes with no code page or
    Kanji mode selected — garbage for the CJK and for every other accented letter on the line.
    Single-byte printers cannot print CJK at all, so it becomes a visible "?" instead.
    """
    encoder = p.magic.encoder
    out: list[str] = []
    missing = 0
    for ch in text:
        if ord(ch) < 128 or encoder.find_suitable_encoding(ch) is not None:
            out.append(ch)
        else:
            out.append(FALLBACK)
            missing += 1
    return "".join(out), missing


def _reason(exc: BaseException) -> str:
    """The root cause's message (python-escpos wraps OS errors in its own, wordier ones)."""
    seen = {id(exc)}
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen and str(inner):
        seen.add(id(inner))
        exc = inner
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
